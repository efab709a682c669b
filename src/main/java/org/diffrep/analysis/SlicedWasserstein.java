package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

import java.util.Random;

/**
 * Sliced Wasserstein-2 distance between two sets of feature vectors A [Na, d] and B [Nb, d]:
 * SW = sqrt( mean over random unit directions theta of W2^2(theta.A, theta.B) ), where the 1-D W2^2 is
 * the mean squared difference of the two quantile functions. With Na = Nb that is the sorted values
 * matched one to one; otherwise both are read at the max(Na, Nb) levels (i + 0.5) / M by linear
 * interpolation. Directions are Gaussian vectors normalised to unit length, from a seeded
 * {@link Random}, processed {@value #BLOCK} at a time so memory is O((Na + Nb) * BLOCK).
 * For N(0, I) against N(mu, I) in d dimensions, SW = |mu| / sqrt(d).
 */
public final class SlicedWasserstein {

    static final int BLOCK = 64;

    private SlicedWasserstein() {
    }

    /** The distance, with {@code projections} directions drawn from {@code seed}. */
    public static double distance(Tensor a, Tensor b, int projections, long seed) {
        RowDistances.checkMatrix(a, "first feature set");
        RowDistances.checkMatrix(b, "second feature set");
        if (a.size(1) != b.size(1)) {
            throw new InvalidInputException("feature sets differ in width: " + a.size(1) + " vs " + b.size(1));
        }
        if (projections < 1) {
            throw InvalidInputException.field("projections", "must be >= 1, got " + projections);
        }
        int d = (int) a.size(1);
        Random rng = new Random(seed);
        double total = 0;
        for (int start = 0; start < projections; start += BLOCK) {
            int m = Math.min(BLOCK, projections - start);
            float[] dirs = new float[d * m];
            for (int j = 0; j < m; j++) {
                double norm = 0;
                double[] g = new double[d];
                for (int q = 0; q < d; q++) {
                    g[q] = rng.nextGaussian();
                    norm += g[q] * g[q];
                }
                norm = Math.sqrt(norm);
                for (int q = 0; q < d; q++) {
                    dirs[q * m + j] = (float) (g[q] / norm);
                }
            }
            try (PointerScope scope = new PointerScope()) {
                Tensor p = RowDistances.centres(dirs, d, m, a);
                float[] pa = sortedColumns(a, p);
                float[] pb = sortedColumns(b, p);
                total += blockSquared(pa, (int) a.size(0), pb, (int) b.size(0), m);
            }
        }
        return Math.sqrt(total / projections);
    }

    /** Projections X P sorted along the rows, returned transposed: [m][N] flattened. */
    private static float[] sortedColumns(Tensor x, Tensor p) {
        Tensor proj = x.mm(p).t().contiguous();
        return Tensors.toFloats(proj.sort(1, false).get0());
    }

    /** Sum over the m directions of the 1-D W2^2 between sorted samples. */
    private static double blockSquared(float[] pa, int na, float[] pb, int nb, int m) {
        double sum = 0;
        int levels = Math.max(na, nb);
        for (int j = 0; j < m; j++) {
            double w = 0;
            for (int i = 0; i < levels; i++) {
                double q = (i + 0.5) / levels;
                double diff = quantile(pa, j * na, na, q) - quantile(pb, j * nb, nb, q);
                w += diff * diff;
            }
            sum += w / levels;
        }
        return sum;
    }

    /** Linear-interpolated quantile of sorted s[off, off + n) at level q, sample i sitting at (i + 0.5) / n. */
    static double quantile(float[] s, int off, int n, double q) {
        double pos = q * n - 0.5;
        if (pos <= 0) {
            return s[off];
        }
        if (pos >= n - 1) {
            return s[off + n - 1];
        }
        int lo = (int) Math.floor(pos);
        double t = pos - lo;
        return s[off + lo] * (1 - t) + s[off + lo + 1] * t;
    }
}
