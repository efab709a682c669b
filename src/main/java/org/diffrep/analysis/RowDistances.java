package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

/**
 * Squared Euclidean distances between the rows of a matrix X [N, d] and a few centres [m, d], by
 * ||x||^2 - 2 x c^T + ||c||^2 with one matrix product per chunk of rows, so memory stays bounded by
 * the chunk whatever N is. Works on X's device; results come back as Java arrays.
 */
public final class RowDistances {

    /** Upper bound on chunk rows times centres (16M floats = 64 MB of distances). */
    private static final long CHUNK_ELEMENTS = 1L << 24;

    private RowDistances() {
    }

    /** Checks that X is a finite 2-D float32 matrix with at least one row; names it in the error. */
    public static void checkMatrix(Tensor x, String what) {
        if (x.dim() != 2) {
            throw new InvalidInputException(what + ": expected a 2-D matrix [N, d], got shape "
                    + java.util.Arrays.toString(Tensors.shape(x)));
        }
        if (x.scalar_type().value != ScalarType.Float.value) {
            throw new InvalidInputException(what + ": expected float32 values");
        }
        if (x.size(0) < 1 || x.size(1) < 1) {
            throw new InvalidInputException(what + ": empty matrix " + java.util.Arrays.toString(Tensors.shape(x)));
        }
        try (PointerScope scope = new PointerScope()) {
            long bad = 0;
            long n = x.size(0);
            long rows = chunkRows(x.size(1));
            for (long s = 0; s < n && bad == 0; s += rows) {
                bad = x.narrow(0, s, Math.min(rows, n - s)).isfinite().logical_not().sum().item_long();
            }
            if (bad > 0) {
                throw new InvalidInputException(what + ": contains NaN or infinite values");
            }
        }
    }

    static long chunkRows(long width) {
        return Math.max(1, CHUNK_ELEMENTS / Math.max(1, width));
    }

    /** Centres [m][d] as a float32 tensor on X's device. */
    static Tensor centres(float[] flat, int m, int d, Tensor like) {
        Tensor c = Tensors.fromFloats(flat, m, d);
        return like.is_cpu() ? c : c.to(like.device(), ScalarType.Float);
    }

    /** Squared norms of the rows of X, [N]; pass them to the distance methods when X is reused. */
    public static float[] norms(Tensor x) {
        long n = x.size(0);
        float[] out = new float[(int) n];
        long rows = chunkRows(x.size(1));
        try (PointerScope scope = new PointerScope()) {
            for (long s = 0; s < n; s += rows) {
                try (PointerScope inner = new PointerScope()) {
                    Tensor xc = x.narrow(0, s, Math.min(rows, n - s));
                    float[] v = Tensors.toFloats(xc.mul(xc).sum(1));
                    System.arraycopy(v, 0, out, (int) s, v.length);
                }
            }
        }
        return out;
    }

    /** {@link #all(Tensor, float[], float[], int)} computing the row norms itself. */
    public static float[][] all(Tensor x, float[] centresFlat, int m) {
        return all(x, norms(x), centresFlat, m);
    }

    /** Squared distances of every row of X to every centre, [m][N] (row-major over centres). */
    public static float[][] all(Tensor x, float[] xNorms, float[] centresFlat, int m) {
        long n = x.size(0);
        int d = (int) x.size(1);
        float[][] out = new float[m][(int) n];
        long rows = chunkRows(Math.max(m, d));
        try (PointerScope scope = new PointerScope()) {
            Tensor c = centres(centresFlat, m, d, x);
            Tensor cn = c.mul(c).sum(1).unsqueeze(0);
            for (long s = 0; s < n; s += rows) {
                try (PointerScope inner = new PointerScope()) {
                    long b = Math.min(rows, n - s);
                    Tensor d2 = chunkDistances(x.narrow(0, s, b), norms(xNorms, s, b, x), c, cn).t().contiguous();
                    float[] flat = Tensors.toFloats(d2);
                    for (int j = 0; j < m; j++) {
                        System.arraycopy(flat, (int) (j * b), out[j], (int) s, (int) b);
                    }
                }
            }
        }
        return out;
    }

    /** Nearest centre of each row: squared distance, index, and per-centre sums of the rows assigned. */
    public record Nearest(float[] distance, int[] index, double[] sums, long[] counts) {
    }

    /** For each row of X its nearest centre; also the per-centre row sums [m*d] and counts [m]. */
    public static Nearest nearest(Tensor x, float[] xNorms, float[] centresFlat, int m, boolean wantSums) {
        long n = x.size(0);
        int d = (int) x.size(1);
        float[] dist = new float[(int) n];
        int[] index = new int[(int) n];
        double[] sums = wantSums ? new double[m * d] : null;
        long[] counts = new long[m];
        long rows = chunkRows(Math.max(m, d));
        try (PointerScope scope = new PointerScope()) {
            Tensor c = centres(centresFlat, m, d, x);
            Tensor cn = c.mul(c).sum(1).unsqueeze(0);
            for (long s = 0; s < n; s += rows) {
                try (PointerScope inner = new PointerScope()) {
                    long b = Math.min(rows, n - s);
                    Tensor xc = x.narrow(0, s, b);
                    T_TensorTensor_T min = chunkDistances(xc, norms(xNorms, s, b, x), c, cn).min(1);
                    Tensor idx = min.get1();
                    float[] md = Tensors.toFloats(min.get0());
                    long[] mi = Tensors.toLongs(idx);
                    System.arraycopy(md, 0, dist, (int) s, (int) b);
                    for (int i = 0; i < b; i++) {
                        index[(int) s + i] = (int) mi[i];
                        counts[(int) mi[i]]++;
                    }
                    if (wantSums) {
                        Tensor acc = torch.zeros(new long[]{m, d}, xc.options());
                        acc.index_add_(0, idx, xc);
                        float[] a = Tensors.toFloats(acc);
                        for (int q = 0; q < a.length; q++) {
                            sums[q] += a[q];
                        }
                    }
                }
            }
        }
        return new Nearest(dist, index, sums, counts);
    }

    private static Tensor norms(float[] xNorms, long start, long b, Tensor like) {
        float[] part = java.util.Arrays.copyOfRange(xNorms, (int) start, (int) (start + b));
        Tensor t = Tensors.fromFloats(part, b, 1);
        return like.is_cpu() ? t : t.to(like.device(), ScalarType.Float);
    }

    private static Tensor chunkDistances(Tensor xc, Tensor xn, Tensor c, Tensor cn) {
        // ||x||^2 - 2 x c^T + ||c||^2; rounding can make it slightly negative for coincident points
        return xc.mm(c.t()).mul(new Scalar(-2.0)).add(xn).add(cn).clamp_min_(new Scalar(0.0));
    }
}
