package org.diffrep.sae;

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
        return of(sae, new StoreRows(features, ids, "features"), batch);
    }

    /** Evaluates on every row of {@code rows}, {@code batch} rows at a time. */
    public static SaeEvaluation of(TopKSae sae, SaeRows rows, int batch) {
        int latents = sae.latents();
        long[] fired = new long[latents];
        double[] acc = new double[3];  // squared error, sum of squares, rows
        double[] sum = new double[rows.width()];
        try (InferenceMode mode = new InferenceMode()) {
            rows.scan(batch, x -> {
                TopKSae.Codes codes = sae.encode(x);
                Tensor xHat = sae.decode(codes);
                acc[0] += xHat.sub(x).square().sum().item_double();
                acc[1] += x.square().sum().item_double();
                acc[2] += x.size(0);
                float[] colSum = Tensors.toFloats(x.sum(0));
                for (int j = 0; j < colSum.length; j++) {
                    sum[j] += colSum[j];
                }
                long[] counts = Tensors.toLongs(codes.dense().ne(new org.bytedeco.pytorch.Scalar(0)).sum(0));
                for (int j = 0; j < latents; j++) {
                    fired[j] += counts[j];
                }
            });
        }
        long n = (long) acc[2];
        double meanSq = 0;
        for (double s : sum) {
            meanSq += s * s;
        }
        double total = acc[1] - meanSq / Math.max(n, 1);
        double[] freq = new double[latents];
        int dead = 0;
        double nnz = 0;
        for (int j = 0; j < latents; j++) {
            freq[j] = (double) fired[j] / Math.max(n, 1);
            nnz += fired[j];
            if (fired[j] == 0) {
                dead++;
            }
        }
        return new SaeEvaluation(n, acc[0] / Math.max(total, 1e-30), nnz / Math.max(n, 1), (double) dead / latents, freq);
    }
}
