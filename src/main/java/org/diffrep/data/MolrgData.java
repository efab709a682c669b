package org.diffrep.data;

import org.diffrep.io.Limits;
import org.diffrep.noise.Seeds;

import java.util.SplittableRandom;

/**
 * Samples of a mixture of low-rank Gaussians with K classes: orthonormal, mutually orthogonal bases U_k (n x d),
 * the columns of the Q factor of a seeded Gaussian n x Kd matrix (Gram-Schmidt, done twice for accuracy), and
 * {@code x0 = U_k a + delta * Ut_k e} with {@code a ~ N(0, I_d)}, {@code e ~ N(0, I_(K-1)d)},
 * {@code Ut_k = [U_l for l != k]}. Classes are exactly balanced (label of sample i before shuffling is i mod K,
 * then a seeded shuffle). Gaussians come from Box-Muller over {@link SplittableRandom} so the samples repeat
 * across JDKs. As a {@link Dataset}, each sample has shape {1, 1, n} and its values are returned unscaled.
 *
 * The arrays are shared, not copied: treat them as read-only.
 *
 * @param params the parameters
 * @param x0     the samples, N x n
 * @param labels the class of each sample, in [0, K)
 * @param bases  the bases, K x n x d: {@code bases[k][i][j]} is row i, column j of U_k
 */
public record MolrgData(MolrgParams params, float[][] x0, int[] labels, double[][][] bases) {

    private static final long BASES = 1;
    private static final long LABELS = 2;
    private static final long SAMPLES = 3;

    /** Generates the bases and N samples for the parameters; same parameters, same result. */
    public static MolrgData generate(MolrgParams p) {
        return generate(p, MolrgNoiseSpace.OTHERS);
    }

    /** As {@link #generate(MolrgParams)}, with the small component in {@code space} (same bases). */
    public static MolrgData generate(MolrgParams p, MolrgNoiseSpace space) {
        // The samples as rows, then once more as one flat array: both fit in the heap or nothing is allocated.
        Limits.inMemory(4L * p.samples() * p.n(), 2, "molrg:" + p.toSpec(), p.samples() + " samples of " + p.n() + " floats");
        double[][][] bases = bases(p.n(), p.d(), p.k(), Seeds.derive(p.seed(), BASES));
        Samples s = draw(bases, p.delta(), p.samples(), p.seed(), space);
        return new MolrgData(p, s.x0(), s.labels(), bases);
    }

    /**
     * Samples of a mixture with given bases, as {@link #generate} draws its own: {@code count} labels
     * balanced (i mod K) then shuffled, and each sample from a stream of its own, all derived from
     * {@code seed}. {@code generate(p)} is {@code draw(bases, p.delta(), p.samples(), p.seed())} on the
     * bases of p; other seeds give fresh samples of the same mixture (the MoLRG experiment's test sets).
     *
     * @param bases K x n x d, as {@link #bases()}
     * @param count the number of samples, at least 0
     */
    public static Samples draw(double[][][] bases, double delta, int count, long seed) {
        return draw(bases, delta, count, seed, MolrgNoiseSpace.OTHERS);
    }

    /**
     * As {@link #draw(double[][][], double, int, long)}, with the small component in {@code space}:
     * {@link MolrgNoiseSpace#OTHERS} gives exactly that method's samples; {@link MolrgNoiseSpace#COMPLEMENT}
     * draws {@code x0 = U_k a + delta (I - U_k U_k^T) e}, {@code e ~ N(0, I_n)}.
     */
    public static Samples draw(double[][][] bases, double delta, int count, long seed, MolrgNoiseSpace space) {
        int k = bases.length;
        int[] labels = new int[count];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % k;
        }
        Split.shuffle(labels, new SplittableRandom(Seeds.derive(seed, LABELS)));
        float[][] x = new float[count][];
        long sampleSeed = Seeds.derive(seed, SAMPLES);
        for (int i = 0; i < x.length; i++) {
            SplittableRandom rng = new SplittableRandom(Seeds.derive(sampleSeed, i));
            x[i] = space == MolrgNoiseSpace.COMPLEMENT ? sampleComplement(bases, labels[i], delta, rng)
                    : sample(bases, labels[i], delta, rng);
        }
        return new Samples(x, labels);
    }

    /**
     * Samples drawn by {@link #draw}; the arrays are shared, not copied.
     *
     * @param x0     the samples, N x n
     * @param labels the class of each sample, in [0, K)
     */
    public record Samples(float[][] x0, int[] labels) {

        /** The samples as one row-major N x n array. */
        public float[] x0Flat() {
            return flat(x0);
        }

        /** The labels as int64 values. */
        public long[] labelsLong() {
            long[] out = new long[labels.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = labels[i];
            }
            return out;
        }
    }

    /** K orthonormal, mutually orthogonal n x d bases: Q of the QR factorisation of a seeded Gaussian n x Kd matrix. */
    public static double[][][] bases(int n, int d, int k, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int m = k * d;
        double[][] cols = new double[m][n];
        for (double[] c : cols) {
            fillGaussian(c, rng);
        }
        for (int j = 0; j < m; j++) {
            // Two passes of modified Gram-Schmidt keep the columns orthogonal to machine precision.
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < j; i++) {
                    double dot = dot(cols[i], cols[j]);
                    for (int r = 0; r < n; r++) {
                        cols[j][r] -= dot * cols[i][r];
                    }
                }
            }
            double norm = Math.sqrt(dot(cols[j], cols[j]));
            for (int r = 0; r < n; r++) {
                cols[j][r] /= norm;
            }
        }
        double[][][] u = new double[k][n][d];
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < d; j++) {
                for (int r = 0; r < n; r++) {
                    u[c][r][j] = cols[c * d + j][r];
                }
            }
        }
        return u;
    }

    private static float[] sample(double[][][] u, int k, double delta, SplittableRandom rng) {
        int n = u[0].length;
        int d = u[0][0].length;
        double[] x = new double[n];
        double[] coef = new double[d];
        for (int l = 0; l < u.length; l++) {
            fillGaussian(coef, rng);
            double scale = l == k ? 1 : delta;
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    s += u[l][r][j] * coef[j];
                }
                x[r] += scale * s;
            }
        }
        float[] out = new float[n];
        for (int r = 0; r < n; r++) {
            out[r] = (float) x[r];
        }
        return out;
    }

    /** U_k a + delta (I - U_k U_k^T) e with a ~ N(0, I_d), e ~ N(0, I_n). */
    private static float[] sampleComplement(double[][][] u, int k, double delta, SplittableRandom rng) {
        int n = u[0].length;
        int d = u[0][0].length;
        double[] a = new double[d];
        fillGaussian(a, rng);
        double[] e = new double[n];
        fillGaussian(e, rng);
        double[] proj = new double[d]; // U_k^T e
        for (int j = 0; j < d; j++) {
            for (int r = 0; r < n; r++) {
                proj[j] += u[k][r][j] * e[r];
            }
        }
        float[] out = new float[n];
        for (int r = 0; r < n; r++) {
            double s = delta * e[r];
            for (int j = 0; j < d; j++) {
                s += u[k][r][j] * (a[j] - delta * proj[j]);
            }
            out[r] = (float) s;
        }
        return out;
    }

    private static void fillGaussian(double[] out, SplittableRandom rng) {
        for (int i = 0; i < out.length; i += 2) {
            double u1 = 1.0 - rng.nextDouble();
            double u2 = rng.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            out[i] = r * Math.cos(2 * Math.PI * u2);
            if (i + 1 < out.length) {
                out[i + 1] = r * Math.sin(2 * Math.PI * u2);
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** Basis U_k as an n x d array (a copy). */
    public double[][] basis(int k) {
        double[][] out = new double[bases[k].length][];
        for (int r = 0; r < out.length; r++) {
            out[r] = bases[k][r].clone();
        }
        return out;
    }

    /** The samples as one row-major N x n array. */
    public float[] x0Flat() {
        return flat(x0);
    }

    private static float[] flat(float[][] rows) {
        int n = rows.length == 0 ? 0 : rows[0].length;
        float[] out = new float[rows.length * n];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * n, n);
        }
        return out;
    }

    /** The samples as a dataset of shape {1, 1, n}, classes "0".."K-1". */
    public InMemoryDataset asDataset() {
        return InMemoryDataset.ofFloats("molrg:" + params.toSpec(), new int[]{1, 1, params.n()}, x0Flat(), labels.clone(),
                InMemoryDataset.genericNames(params.k()));
    }
}
