package org.diffrep.reconstruct;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;

import java.util.Arrays;
import java.util.Set;

/**
 * The representation of Kadkhodaie, Mallat and Simoncelli: the spatial means of a tap's channels
 * (by default the middle block, {@code mid}), for images given to the denoiser at a noise level.
 */
public final class Representation {

    public static final String DEFAULT_TAP = "mid";

    private Representation() {
    }

    /** Checks that the denoiser has the tap; names the available ones otherwise. */
    public static void checkTap(Denoiser d, String tap) {
        if (!d.taps().contains(tap)) {
            throw InvalidInputException.field("tap", "'" + tap + "': the model has taps " + d.taps());
        }
    }

    /** A noise-level vector [b] holding {@code sigma} for every sample. */
    public static Tensor sigmas(long b, float sigma) {
        float[] s = new float[(int) b];
        Arrays.fill(s, sigma);
        return Tensors.fromFloats(s);
    }

    /** Channel means [B, C] of the tap for images x [B, ...] conditioned on sigma [B] (autograd as set by the caller). */
    public static Tensor of(Denoiser d, String tap, Tensor x, Tensor sigma) {
        Tensor map = d.forward(x, sigma, Set.of(tap), false).taps().get(tap);
        if (map.dim() == 2) {
            return map;
        }
        long[] spatial = new long[(int) map.dim() - 2];
        for (int i = 0; i < spatial.length; i++) {
            spatial[i] = i + 2;
        }
        return map.mean(spatial, false, null);
    }
}
