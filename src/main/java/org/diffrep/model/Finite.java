package org.diffrep.model;

import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.diffrep.InvalidInputException;

/** Checks that weights and results hold finite numbers: a NaN is an error, never a result. */
public final class Finite {

    private Finite() {
    }

    /** How many values of {@code t} are NaN or infinite (0 for an integer tensor). */
    public static long nonFinite(Tensor t) {
        if (!t.is_floating_point()) {
            return 0;
        }
        try (PointerScope scope = new PointerScope()) {
            return t.numel() - torch.isfinite(t.detach()).sum().item_long();
        }
    }

    /** Whether every value of {@code t} is finite. */
    public static boolean all(Tensor t) {
        return nonFinite(t) == 0;
    }

    /**
     * Refuses a file whose tensors hold NaN or infinite values, naming the file and the first such
     * tensor ({@code prefix + name}).
     */
    public static void requireTensors(String file, Map<String, Tensor> tensors, String prefix) {
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            long bad = nonFinite(e.getValue());
            if (bad > 0) {
                throw new InvalidInputException(file + ": tensor '" + prefix + e.getKey() + "' holds " + bad + " NaN or "
                        + "infinite value" + (bad == 1 ? "" : "s") + " (of " + e.getValue().numel()
                        + "); the weights are unusable");
            }
        }
    }
}
