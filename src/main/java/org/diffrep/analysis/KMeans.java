package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * k-means on the rows of a float32 matrix X [N, d] held by LibTorch (CPU or GPU): greedy k-means++
 * seeding (2 + ln k candidates per centre, the one that lowers the potential most is kept, as
 * scikit-learn does), then Lloyd iterations until the summed squared centre shift falls below
 * {@code tol} times the mean per-feature variance or the assignments stop changing; the best of
 * {@code nInit} seeded starts by inertia. Distances are chunked matrix products ({@link RowDistances}),
 * so memory is O(chunk + k d) besides X itself. An emptied cluster is moved to the row farthest from
 * its centre.
 */
public final class KMeans {

    private KMeans() {
    }

    /** Clusters the rows of X. X is read, never written; it may be a memory-mapped store tensor. */
    public static KMeansResult fit(Tensor x, KMeansConfig cfg) {
        RowDistances.checkMatrix(x, "k-means input");
        long n = x.size(0);
        if (cfg.k() > n) {
            throw InvalidInputException.field("k", cfg.k() + " is larger than the number of rows N = " + n);
        }
        double tolAbs = cfg.tol() * meanVariance(x);
        float[] norms = RowDistances.norms(x);
        SplittableRandom root = new SplittableRandom(cfg.seed());
        KMeansResult best = null;
        double[] inertias = new double[cfg.nInit()];
        for (int init = 0; init < cfg.nInit(); init++) {
            SplittableRandom rng = root.split();
            KMeansResult r = lloyd(x, norms, seed(x, norms, cfg.k(), rng), cfg, tolAbs);
            inertias[init] = r.inertia();
            if (best == null || r.inertia() < best.inertia()) {
                best = r;
            }
        }
        return new KMeansResult(best.centroids(), best.assignments(), best.sizes(), best.inertia(),
                best.iterations(), inertias);
    }

    /** Sum of squared distances of every row to its nearest centre. */
    public static double inertia(Tensor x, float[][] centroids) {
        RowDistances.Nearest nn = RowDistances.nearest(x, RowDistances.norms(x), flatten(centroids), centroids.length, false);
        return sum(nn.distance());
    }

    /** Greedy k-means++: returns k centres, flattened [k*d]. */
    static float[] seed(Tensor x, float[] norms, int k, SplittableRandom rng) {
        int n = (int) x.size(0);
        int d = (int) x.size(1);
        int trials = 2 + (int) Math.log(k);
        float[] centres = new float[k * d];
        int first = rng.nextInt(n);
        System.arraycopy(row(x, first), 0, centres, 0, d);
        float[] closest = RowDistances.all(x, norms, row(x, first), 1)[0];
        double pot = sum(closest);
        double[] cumulative = new double[n];
        for (int c = 1; c < k; c++) {
            double acc = 0;
            for (int i = 0; i < n; i++) {
                acc += closest[i];
                cumulative[i] = acc;
            }
            float[] cand = new float[trials * d];
            int[] candIds = new int[trials];
            for (int t = 0; t < trials; t++) {
                int id = Arrays.binarySearch(cumulative, rng.nextDouble() * acc);
                id = id >= 0 ? id : -id - 1;
                candIds[t] = Math.min(id, n - 1);
                System.arraycopy(row(x, candIds[t]), 0, cand, t * d, d);
            }
            float[][] dist = RowDistances.all(x, norms, cand, trials);
            int bestT = -1;
            double bestPot = Double.POSITIVE_INFINITY;
            for (int t = 0; t < trials; t++) {
                double p = 0;
                for (int i = 0; i < n; i++) {
                    float v = Math.min(closest[i], dist[t][i]);
                    dist[t][i] = v;
                    p += v;
                }
                if (p < bestPot) {
                    bestPot = p;
                    bestT = t;
                }
            }
            closest = dist[bestT];
            pot = bestPot;
            System.arraycopy(cand, bestT * d, centres, c * d, d);
        }
        assert pot >= 0;
        return centres;
    }

    private static KMeansResult lloyd(Tensor x, float[] norms, float[] centres, KMeansConfig cfg, double tolAbs) {
        int k = cfg.k();
        int d = (int) x.size(1);
        int[] previous = null;
        int iterations = 0;
        for (int it = 0; it < cfg.maxIter(); it++) {
            iterations = it + 1;
            RowDistances.Nearest nn = RowDistances.nearest(x, norms, centres, k, true);
            float[] next = new float[k * d];
            boolean[] taken = new boolean[(int) x.size(0)];
            for (int j = 0; j < k; j++) {
                if (nn.counts()[j] == 0) {
                    int far = farthest(nn.distance(), taken);
                    taken[far] = true;
                    System.arraycopy(row(x, far), 0, next, j * d, d);
                    continue;
                }
                for (int q = 0; q < d; q++) {
                    next[j * d + q] = (float) (nn.sums()[j * d + q] / nn.counts()[j]);
                }
            }
            double shift = 0;
            for (int q = 0; q < next.length; q++) {
                double diff = next[q] - centres[q];
                shift += diff * diff;
            }
            centres = next;
            boolean same = previous != null && Arrays.equals(previous, nn.index());
            previous = nn.index();
            if (same || shift <= tolAbs) {
                break;
            }
        }
        // Final assignment step, so labels and inertia belong to the returned centres.
        RowDistances.Nearest last = RowDistances.nearest(x, norms, centres, k, false);
        int[] sizes = new int[k];
        for (int j = 0; j < k; j++) {
            sizes[j] = (int) last.counts()[j];
        }
        float[][] c = new float[k][d];
        for (int j = 0; j < k; j++) {
            System.arraycopy(centres, j * d, c[j], 0, d);
        }
        return new KMeansResult(c, last.index(), sizes, sum(last.distance()), iterations, new double[0]);
    }

    private static int farthest(float[] dist, boolean[] taken) {
        int best = -1;
        for (int i = 0; i < dist.length; i++) {
            if (!taken[i] && (best < 0 || dist[i] > dist[best])) {
                best = i;
            }
        }
        return best;
    }

    /** Mean over features of the per-feature variance (population), chunked. */
    static double meanVariance(Tensor x) {
        long n = x.size(0);
        int d = (int) x.size(1);
        double[] s1 = new double[d];
        double[] s2 = new double[d];
        long rows = RowDistances.chunkRows(d);
        try (PointerScope scope = new PointerScope()) {
            for (long s = 0; s < n; s += rows) {
                try (PointerScope inner = new PointerScope()) {
                    Tensor xc = x.narrow(0, s, Math.min(rows, n - s));
                    float[] a = Tensors.toFloats(xc.sum(0));
                    float[] b = Tensors.toFloats(xc.mul(xc).sum(0));
                    for (int q = 0; q < d; q++) {
                        s1[q] += a[q];
                        s2[q] += b[q];
                    }
                }
            }
        }
        double v = 0;
        for (int q = 0; q < d; q++) {
            double m = s1[q] / n;
            v += Math.max(0, s2[q] / n - m * m);
        }
        return v / d;
    }

    static float[] row(Tensor x, long i) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toFloats(x.select(0, i));
        }
    }

    static float[] flatten(float[][] rows) {
        int d = rows[0].length;
        float[] out = new float[rows.length * d];
        for (int j = 0; j < rows.length; j++) {
            System.arraycopy(rows[j], 0, out, j * d, d);
        }
        return out;
    }

    private static double sum(float[] v) {
        double s = 0;
        for (float f : v) {
            s += f;
        }
        return s;
    }
}
