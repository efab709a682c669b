package org.diffrep.theory;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.ops.DoubleTensors;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MolrgPosteriorTest {

    /** K=2 classes in n=3 with d=1: class 0 on e0, class 1 on e1, e2 orthogonal to both. */
    private static final double[][][] BASES = {{{1}, {0}, {0}}, {{0}, {1}, {0}}};

    private static Tensor bases() {
        return DoubleTensors.fromDoubles(new double[]{1, 0, 0, 0, 1, 0}, 2, 3, 1);
    }

    /** One draw from the prior of class k: U_k a + delta * sum_{l != k} U_l e_l. */
    private static double[] drawPrior(int k, double delta, Random rng) {
        double[] x = new double[3];
        for (int l = 0; l < 2; l++) {
            double scale = l == k ? 1 : delta;
            double a = rng.nextGaussian() * scale;
            for (int i = 0; i < 3; i++) {
                x[i] += BASES[l][i][0] * a;
            }
        }
        return x;
    }

    @Test
    void posteriorMeanMatchesMonteCarlo() {
        try (PointerScope scope = new PointerScope()) {
            double delta = 0.3, sigma = 0.6;
            Random rng = new Random(7);
            double[][] points = {{0.8, -0.4, 0.3}, {-0.2, 1.1, -0.5}, {0.5, 0.5, 0.0}};
            MolrgPosterior post = new MolrgPosterior(bases(), delta);
            double[] flat = new double[9];
            for (int p = 0; p < 3; p++) {
                System.arraycopy(points[p], 0, flat, p * 3, 3);
            }
            double[] analytic = DoubleTensors.toDoubles(post.mean(DoubleTensors.fromDoubles(flat, 3, 3), sigma));
            // self-normalised importance sampling: x0 from the prior, weight N(x_t; x0, sigma^2 I)
            int draws = 400_000;
            double[][] sum = new double[3][3];
            double[] weight = new double[3];
            for (int s = 0; s < draws; s++) {
                double[] x0 = drawPrior(s % 2, delta, rng);
                for (int p = 0; p < 3; p++) {
                    double d2 = 0;
                    for (int i = 0; i < 3; i++) {
                        double diff = points[p][i] - x0[i];
                        d2 += diff * diff;
                    }
                    double w = Math.exp(-d2 / (2 * sigma * sigma));
                    weight[p] += w;
                    for (int i = 0; i < 3; i++) {
                        sum[p][i] += w * x0[i];
                    }
                }
            }
            for (int p = 0; p < 3; p++) {
                for (int i = 0; i < 3; i++) {
                    assertEquals(sum[p][i] / weight[p], analytic[p * 3 + i], 0.01,
                            "point " + p + " coordinate " + i);
                }
                // nothing lives outside the union of the class subspaces
                assertEquals(0.0, analytic[p * 3 + 2], 1e-12);
            }
        }
    }

    @Test
    void classPosteriorSumsToOneAndConcentratesOnTheTrueClass() {
        try (PointerScope scope = new PointerScope()) {
            // K=2 classes of dimension d=8 in n=16 (coordinate blocks), so classes separate at sigma -> 0
            int k = 2, d = 8, n = k * d, count = 200;
            double delta = 0.2;
            double[] basis = new double[k * n * d];
            for (int c = 0; c < k; c++) {
                for (int j = 0; j < d; j++) {
                    basis[c * n * d + (c * d + j) * d + j] = 1;
                }
            }
            Random rng = new Random(3);
            double[] x0 = new double[count * n];
            long[] labels = new long[count];
            for (int i = 0; i < count; i++) {
                labels[i] = i % k;
                for (int j = 0; j < n; j++) {
                    x0[i * n + j] = rng.nextGaussian() * (j / d == labels[i] ? 1 : delta);
                }
            }
            MolrgPosterior post = new MolrgPosterior(DoubleTensors.fromDoubles(basis, k, n, d), delta);
            double previous = 0;
            for (double sigma : new double[]{3.0, 1.0, 0.3, 0.1, 0.01, 0.001}) {
                double[] noisy = x0.clone();
                for (int i = 0; i < noisy.length; i++) {
                    noisy[i] += sigma * rng.nextGaussian();
                }
                double[] w = DoubleTensors.toDoubles(post.classPosterior(DoubleTensors.fromDoubles(noisy, count, n), sigma));
                double onTrue = 0;
                for (int i = 0; i < count; i++) {
                    assertEquals(1.0, w[i * k] + w[i * k + 1], 1e-12);
                    onTrue += w[i * k + (int) labels[i]];
                }
                onTrue /= count;
                assertTrue(onTrue >= previous - 0.01, "mass on the true class should grow as sigma falls, sigma " + sigma);
                previous = onTrue;
            }
            assertTrue(previous > 0.999, "at sigma 0.001 the true class should hold nearly all the mass, got " + previous);
        }
    }

    @Test
    void hugeEnergiesDoNotOverflow() {
        try (PointerScope scope = new PointerScope()) {
            MolrgPosterior post = new MolrgPosterior(bases(), 0.0);
            double[] w = DoubleTensors.toDoubles(post.classPosterior(DoubleTensors.fromDoubles(new double[]{1e3, 1, 0}, 1, 3), 1e-6));
            assertEquals(1.0, w[0], 0);
            assertEquals(0.0, w[1], 0);
        }
    }
}
