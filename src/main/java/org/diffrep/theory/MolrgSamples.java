package org.diffrep.theory;

import java.util.SplittableRandom;

/**
 * Fresh MoLRG samples from given bases: the experiment tests its probes on new data from the same
 * mixture, which {@code data.MolrgData.generate} cannot give (its bases follow from its seed).
 * Same law as MolrgData: x0 = U_k a + delta * Ut_k e, classes balanced (i mod K) then shuffled.
 *
 * @param x0     row-major [N, n]
 * @param labels class of each sample
 */
public record MolrgSamples(float[] x0, long[] labels) {

    /** {@code count} samples from {@code bases} [K][n][d], seeded. */
    public static MolrgSamples draw(double[][][] bases, double delta, int count, long seed) {
        int k = bases.length, n = bases[0].length, d = bases[0][0].length;
        SplittableRandom rng = new SplittableRandom(seed);
        long[] labels = new long[count];
        for (int i = 0; i < count; i++) {
            labels[i] = i % k;
        }
        for (int i = count - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            long t = labels[i];
            labels[i] = labels[j];
            labels[j] = t;
        }
        float[] x0 = new float[count * n];
        double[] x = new double[n];
        for (int i = 0; i < count; i++) {
            java.util.Arrays.fill(x, 0);
            for (int l = 0; l < k; l++) {
                double scale = l == labels[i] ? 1 : delta;
                for (int j = 0; j < d; j++) {
                    double a = scale * gaussian(rng);
                    for (int r = 0; r < n; r++) {
                        x[r] += bases[l][r][j] * a;
                    }
                }
            }
            for (int r = 0; r < n; r++) {
                x0[i * n + r] = (float) x[r];
            }
        }
        return new MolrgSamples(x0, labels);
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
