package org.diffrep.theory;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.diffrep.ops.DoubleTensors;
import org.diffrep.ops.Tensors;

import java.util.Arrays;
import java.util.List;

/**
 * Class-specific signal-to-noise ratio of an estimate: for a sample of true class k,
 * ||U_k^T xh||^2 / sum_{l != k} ||U_l^T xh||^2 (the energy in its own class subspace over the energy in
 * the other classes' subspaces).
 */
public final class Csnr {

    private Csnr() {
    }

    /**
     * @param meanOfRatios the per-sample ratio averaged over samples (samples with no energy outside
     *                     their class subspace are left out of this mean; see {@code infinite})
     * @param ratioOfMeans mean own-class energy over mean other-class energy
     * @param count        samples measured
     * @param infinite     samples whose other-class energy is exactly 0
     */
    public record Result(double meanOfRatios, double ratioOfMeans, long count, long infinite) {
    }

    /** CSNR with bases [K, n, d] (the MoLRG case). */
    public static Result of(Tensor estimate, Tensor bases, long[] labels) {
        if (bases.dim() != 3) {
            throw new IllegalArgumentException("bases must be [K, n, d], got " + shapeOf(bases));
        }
        Tensor e = estimate.to(ScalarType.Double);
        checkEstimate(e, bases.size(1), labels);
        Tensor energy = e.unsqueeze(0).matmul(bases.to(ScalarType.Double)).square().sum(2).t(); // [N, K]
        return fromEnergies(DoubleTensors.toDoubles(energy), (int) bases.size(0), labels);
    }

    /** CSNR with one basis [n, d_k] per class; d_k may differ between classes, and may be 0. */
    public static Result of(Tensor estimate, List<Tensor> bases, long[] labels) {
        Tensor e = estimate.to(ScalarType.Double);
        long n = e.dim() == 2 ? e.size(1) : -1;
        checkEstimate(e, n, labels);
        int k = bases.size();
        int count = (int) e.size(0);
        double[] energy = new double[count * k];
        for (int c = 0; c < k; c++) {
            Tensor u = bases.get(c);
            if (u.dim() != 2 || u.size(0) != n) {
                throw new IllegalArgumentException("basis of class " + c + " must be [" + n + ", d], got " + shapeOf(u));
            }
            if (u.size(1) == 0) {
                continue;
            }
            double[] col = DoubleTensors.toDoubles(e.matmul(u.to(ScalarType.Double)).square().sum(1));
            for (int i = 0; i < count; i++) {
                energy[i * k + c] = col[i];
            }
        }
        return fromEnergies(energy, k, labels);
    }

    /** CSNR from per-sample class-subspace energies, row-major [N, K]. */
    static Result fromEnergies(double[] energy, int k, long[] labels) {
        int count = labels.length;
        double sumRatio = 0, sumOwn = 0, sumOther = 0;
        long finite = 0, infinite = 0;
        for (int i = 0; i < count; i++) {
            int y = (int) labels[i];
            if (y < 0 || y >= k) {
                throw new IllegalArgumentException("label " + labels[i] + " of sample " + i + " is outside [0, " + k + ")");
            }
            double own = energy[i * k + y];
            double other = 0;
            for (int c = 0; c < k; c++) {
                if (c != y) {
                    other += energy[i * k + c];
                }
            }
            sumOwn += own;
            sumOther += other;
            if (other > 0) {
                sumRatio += own / other;
                finite++;
            } else {
                infinite++;
            }
        }
        double meanOfRatios = finite == 0 ? Double.POSITIVE_INFINITY : sumRatio / finite;
        double ratioOfMeans = sumOther == 0 ? Double.POSITIVE_INFINITY : sumOwn / sumOther;
        return new Result(meanOfRatios, ratioOfMeans, count, infinite);
    }

    private static void checkEstimate(Tensor e, long n, long[] labels) {
        if (e.dim() != 2 || e.size(1) != n) {
            throw new IllegalArgumentException("estimate must be [N, " + n + "], got " + shapeOf(e));
        }
        if (e.size(0) != labels.length) {
            throw new IllegalArgumentException("estimate has " + e.size(0) + " rows but there are " + labels.length + " labels");
        }
    }

    static String shapeOf(Tensor t) {
        return Arrays.toString(Tensors.shape(t));
    }
}
