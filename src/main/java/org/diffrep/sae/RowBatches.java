package org.diffrep.sae;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

/** Batches of rows taken by id from a [N, D] feature tensor, and the checks made before training. */
final class RowBatches {

    private RowBatches() {
    }

    /** Rows ids[start .. start+n) of features, as a new contiguous float32 tensor [n, D]. */
    static Tensor rows(Tensor features, long[] ids, int start, int n) {
        long[] slice = new long[n];
        System.arraycopy(ids, start, slice, 0, n);
        return features.index_select(0, Tensors.fromLongs(slice)).contiguous();
    }

    /** Fails with a message naming {@code source} when any row holds NaN or infinity (checked in chunks). */
    static void requireFinite(Tensor features, String source) {
        long n = features.size(0);
        for (long start = 0; start < n; start += 4096) {
            try (var scope = new org.bytedeco.javacpp.PointerScope()) {
                Tensor chunk = features.narrow(0, start, Math.min(4096, n - start));
                Tensor finite = org.bytedeco.pytorch.global.torch.isfinite(chunk);
                if (finite.sum().item_long() != chunk.numel()) {
                    long[] rowOk = Tensors.toLongs(finite.all(1));
                    long row = start;
                    while (rowOk[(int) (row - start)] != 0) {
                        row++;
                    }
                    throw new InvalidInputException(source + ": row " + row + " holds NaN or infinite values;"
                            + " the SAE needs finite features");
                }
            }
        }
    }
}
