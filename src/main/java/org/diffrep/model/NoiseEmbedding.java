package org.diffrep.model;

import java.util.Random;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.diffrep.ops.Tensors;

/**
 * Embeds the noise condition c_noise [N] as features [N, dim]:
 * {@code sinusoidal} (transformer positional encoding, frequencies 1 down to 1/10000),
 * {@code fourier} (random Fourier features, fixed frequencies ~ N(0, 16^2) kept as a buffer) or
 * {@code scalar} (c_noise itself, dim 1, for concatenation).
 */
public final class NoiseEmbedding extends Module {

    public static final String SINUSOIDAL = "sinusoidal";
    public static final String FOURIER = "fourier";
    public static final String SCALAR = "scalar";

    private final String kind;
    private final int dim;
    private final Tensor freqs;

    public NoiseEmbedding(String kind, int dim) {
        this.kind = kind;
        switch (kind) {
            case SCALAR -> {
                this.dim = 1;
                this.freqs = null;
            }
            case SINUSOIDAL -> {
                requireEven(dim);
                this.dim = dim;
                int half = dim / 2;
                float[] f = new float[half];
                for (int i = 0; i < half; i++) {
                    f[i] = (float) Math.pow(1.0 / 10000.0, i / (double) Math.max(1, half - 1));
                }
                this.freqs = Tensors.fromFloats(f).retainReference();
                register_buffer("freqs", freqs);
            }
            case FOURIER -> {
                requireEven(dim);
                this.dim = dim;
                // Fixed seed: the frequencies are part of the architecture, and also saved as a buffer.
                Random r = new Random(0x5EEDL);
                float[] f = new float[dim / 2];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) (2 * Math.PI * 16.0 * r.nextGaussian());
                }
                this.freqs = Tensors.fromFloats(f).retainReference();
                register_buffer("freqs", freqs);
            }
            default -> throw new IllegalArgumentException(
                    "noise embedding must be sinusoidal, fourier or scalar, got '" + kind + "'");
        }
    }

    private static void requireEven(int dim) {
        if (dim < 2 || dim % 2 != 0) {
            throw new IllegalArgumentException("noise embedding dimension must be even and >= 2, got " + dim);
        }
    }

    /** Output width. */
    public int dim() {
        return dim;
    }

    public String kind() {
        return kind;
    }

    /** c_noise [N] -> [N, dim]. */
    public Tensor forward(Tensor cNoise) {
        Tensor c = cNoise.reshape(-1, 1);
        if (freqs == null) {
            return c;
        }
        Tensor arg = c.mul(freqs.reshape(1, -1));
        return torch.cat(new org.bytedeco.pytorch.TensorVector(arg.cos(), arg.sin()), 1);
    }
}
