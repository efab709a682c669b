package org.diffrep.sae;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.ops.Tensors;

/**
 * The linear baseline of an SAE with k active latents: PCA with k components, fitted on training rows
 * (centred by their mean) and scored on held-out rows with the SAE's FVU, sum ||x - x_hat||^2 over
 * sum ||x - mean x||^2 (mean of the scored rows), where x_hat is the projection of x - mu on the top k
 * principal directions, plus mu. One pass over the held-out rows gives every k. Computed in float64.
 *
 * @param mean       mu [D], the training rows' mean
 * @param components principal directions as columns [D, D], by descending variance
 * @param variances  the training rows' variance along each, descending
 */
public record PcaBaseline(Tensor mean, Tensor components, double[] variances) {

    /** Fits on training rows x [n, D] (float32 or float64). */
    public static PcaBaseline fit(Tensor x) {
        Tensor xd = x.to(torch.ScalarType.Double);
        Tensor mu = xd.mean(0);
        Tensor c = xd.sub(mu);
        Tensor cov = c.t().matmul(c).div(new org.bytedeco.pytorch.Scalar(Math.max(1, x.size(0) - 1)));
        T_TensorTensor_T eig = torch.linalg_eigh(cov);
        // eigh gives ascending eigenvalues; flip to descending
        Tensor vals = eig.get0().flip(0);
        Tensor vecs = eig.get1().flip(1).contiguous();
        mu.retainReference();
        vecs.retainReference();
        double[] v = doubles(vals);
        return new PcaBaseline(mu, vecs, v);
    }

    /** Held-out FVU of PCA with k components, for each of {@code ks} (each in [0, D]), on every row of {@code rows}. */
    public double[] fvu(SaeRows rows, int[] ks, int batch) {
        int d = (int) components.size(0);
        double[] energy = new double[d];  // sum over rows of the squared coordinate along each component
        double[] acc = new double[3];     // sum ||x - mu||^2, sum ||x||^2, rows
        double[] sum = new double[d];
        try (InferenceMode mode = new InferenceMode()) {
            rows.scan(batch, x -> {
                Tensor xd = x.to(torch.ScalarType.Double);
                Tensor y = xd.sub(mean);
                double[] e = doubles(y.matmul(components).square().sum(0));
                for (int j = 0; j < d; j++) {
                    energy[j] += e[j];
                }
                acc[0] += y.square().sum().item_double();
                acc[1] += xd.square().sum().item_double();
                acc[2] += x.size(0);
                double[] s = doubles(xd.sum(0));
                for (int j = 0; j < d; j++) {
                    sum[j] += s[j];
                }
            });
        }
        double meanSq = 0;
        for (double s : sum) {
            meanSq += s * s;
        }
        double total = acc[1] - meanSq / Math.max(acc[2], 1);
        double[] out = new double[ks.length];
        for (int i = 0; i < ks.length; i++) {
            double kept = 0;
            for (int j = 0; j < Math.min(ks[i], d); j++) {
                kept += energy[j];
            }
            out[i] = Math.max(0, acc[0] - kept) / Math.max(total, 1e-30);
        }
        return out;
    }

    /** Share of the training variance in the top k components. */
    public double explained(int k) {
        double all = 0, top = 0;
        for (int j = 0; j < variances.length; j++) {
            all += variances[j];
            top += j < k ? variances[j] : 0;
        }
        return all > 0 ? top / all : 0;
    }

    /** A float64 tensor's values (through float32: the sums that use them are per batch, the totals in double). */
    private static double[] doubles(Tensor t) {
        float[] f = Tensors.toFloats(t.to(torch.ScalarType.Float).contiguous());
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
