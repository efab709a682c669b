package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.ops.Tensors;

/**
 * An SAE measured on a set of rows, in one pass of batches.
 *
 * @param rows           rows evaluated
 * @param fvu            sum ||x - x_hat||^2 / sum ||x - mean x||^2 over the rows
 * @param l0             mean number of non-zero codes per row
 * @param deadFraction   share of latents that are zero on every row
 * @param activationFreq per latent, the share of rows where it is non-zero
 */
public record SaeEvaluation(long rows, double fvu, double l0, double deadFraction, double[] activationFreq) {

    /** Evaluates on the rows {@code ids} of {@code features} [N, D] (CPU float32), {@code batch} rows at a time. */
    public static SaeEvaluation of(TopKSae sae, Tensor features, long[] ids, int batch) {
        int latents = sae.latents();
        long[] fired = new long[latents];
        double err = 0, sumSq = 0, nnz = 0;
        double[] sum = new double[(int) features.size(1)];
        try (InferenceMode mode = new InferenceMode()) {
            for (int start = 0; start < ids.length; start += batch) {
                try (PointerScope scope = new PointerScope()) {
                    int n = Math.min(batch, ids.length - start);
                    Tensor x = RowBatches.rows(features, ids, start, n);
                    TopKSae.Codes codes = sae.encode(x);
                    Tensor xHat = sae.decode(codes);
                    err += xHat.sub(x).square().sum().item_double();
                    sumSq += x.square().sum().item_double();
                    float[] colSum = Tensors.toFloats(x.sum(0));
                    for (int j = 0; j < colSum.length; j++) {
                        sum[j] += colSum[j];
                    }
                    long[] counts = Tensors.toLongs(codes.dense().ne(new org.bytedeco.pytorch.Scalar(0)).sum(0));
                    for (int j = 0; j < latents; j++) {
                        fired[j] += counts[j];
                        nnz += counts[j];
                    }
                }
            }
        }
        double meanSq = 0;
        for (double s : sum) {
            meanSq += s * s;
        }
        double total = sumSq - meanSq / ids.length;
        double[] freq = new double[latents];
        int dead = 0;
        for (int j = 0; j < latents; j++) {
            freq[j] = (double) fired[j] / ids.length;
            if (fired[j] == 0) {
                dead++;
            }
        }
        return new SaeEvaluation(ids.length, err / Math.max(total, 1e-30), nnz / ids.length, (double) dead / latents, freq);
    }
}
