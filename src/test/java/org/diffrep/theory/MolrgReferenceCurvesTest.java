package org.diffrep.theory;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.data.MolrgData;
import org.diffrep.data.MolrgNoiseSpace;
import org.diffrep.data.MolrgParams;
import org.diffrep.noise.VpSchedule;
import org.diffrep.ops.DoubleTensors;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.diffrep.CurveShape.argmax;
import static org.diffrep.CurveShape.unimodal;

/**
 * The reference curves of the MoLRG experiment: the optimum (posterior mean) and the best linear
 * denoiser against the Gaussian-mixture formulas written out with full covariance matrices, in both noise
 * spaces; the optimum's CSNR on clean input is unimodal over the experiment's timesteps; the linear
 * denoiser's is flat on clean input and falls on noisy input; the Bayes classifier.
 */
class MolrgReferenceCurvesTest {

    /** The experiment's default timesteps (study.MolrgExperiment.Settings.DEFAULT_TIMESTEPS) on VP linear T=500. */
    static final int[] TIMESTEPS = {1, 5, 10, 20, 40, 60, 80, 100, 120, 140, 160, 180, 240, 260, 280};

    @Test
    void optimumCsnrOnCleanInputIsUnimodalOverTheDefaultGridAndTheLinearOneIsFlat() {
        try (PointerScope scope = new PointerScope()) {
            MolrgData data = MolrgData.generate(new MolrgParams(50, 5, 3, 0.2, 3000, 0));
            MolrgPosterior post = new MolrgPosterior(bases(data), 0.2);
            long[] labels = labels(data);
            Tensor x0 = Tensors.fromFloats(data.x0Flat(), 3000, 50);
            VpSchedule vp = VpSchedule.linear(500);
            double[] rom = new double[TIMESTEPS.length], mor = new double[TIMESTEPS.length];
            double[] linear = new double[TIMESTEPS.length];
            for (int j = 0; j < TIMESTEPS.length; j++) {
                double sigma = vp.sigmaAtStep(TIMESTEPS[j]);
                Csnr.Result r = Csnr.of(post.mean(x0, sigma), post.bases(), labels);
                rom[j] = r.ratioOfMeans();
                mor[j] = r.meanOfRatios();
                linear[j] = Csnr.of(post.linearMean(x0, sigma), post.bases(), labels).ratioOfMeans();
            }
            int p = argmax(rom);
            assertTrue(p > 0 && p < rom.length - 1 && unimodal(rom), "ratio of means must rise then fall: "
                    + java.util.Arrays.toString(rom));
            assertTrue(rom[p] > 2 * rom[0] && rom[p] > 2 * rom[rom.length - 1], "a clear peak: " + java.util.Arrays.toString(rom));
            int q = argmax(mor);
            assertTrue(q > 0 && q < mor.length - 1, "mean of ratios peaks inside the grid: " + java.util.Arrays.toString(mor));
            // the linear denoiser scales the whole span of the bases by one factor: clean input keeps x0's CSNR
            for (double v : linear) {
                assertEquals(linear[0], v, 1e-9 * linear[0]);
            }
        }
    }

    @Test
    void linearCsnrOnNoisyInputFallsWithSigma() {
        try (PointerScope scope = new PointerScope()) {
            MolrgData data = MolrgData.generate(new MolrgParams(20, 3, 3, 0.2, 2000, 1));
            MolrgPosterior post = new MolrgPosterior(bases(data), 0.2);
            long[] labels = labels(data);
            float[] x0 = data.x0Flat();
            Random rng = new Random(3);
            float[] eps = new float[x0.length];
            for (int i = 0; i < eps.length; i++) {
                eps[i] = (float) rng.nextGaussian();
            }
            double last = Double.POSITIVE_INFINITY;
            for (double sigma : new double[]{0.05, 0.2, 0.5, 1, 2}) {
                float[] xt = new float[x0.length];
                for (int i = 0; i < xt.length; i++) {
                    xt[i] = (float) (x0[i] + sigma * eps[i]);
                }
                double c = Csnr.of(post.linearMean(Tensors.fromFloats(xt, 2000, 20), sigma), post.bases(), labels).ratioOfMeans();
                assertTrue(c < last, "sigma " + sigma + ": " + c + " after " + last);
                last = c;
            }
        }
    }

    @Test
    void optimumAndLinearDenoisersMatchTheMixtureFormulasInBothNoiseSpaces() {
        int n = 8, d = 2, k = 3;
        double delta = 0.3, sigma = 0.45;
        double[][][] u = MolrgData.bases(n, d, k, 5);
        Random rng = new Random(9);
        double[] xs = new double[4 * n];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = rng.nextGaussian() * 0.8;
        }
        for (MolrgNoiseSpace space : MolrgNoiseSpace.values()) {
            try (PointerScope scope = new PointerScope()) {
                MolrgPosterior post = new MolrgPosterior(flat(u), delta, space);
                Tensor x = DoubleTensors.fromDoubles(xs, 4, n);
                double[] mean = DoubleTensors.toDoubles(post.mean(x, sigma));
                double[] w = DoubleTensors.toDoubles(post.classPosterior(x, sigma));
                double[] lin = DoubleTensors.toDoubles(post.linearMean(x, sigma));
                double[][][] cov = new double[k][][];
                double[][] avg = new double[n][n];
                for (int c = 0; c < k; c++) {
                    cov[c] = classCovariance(u, c, delta, space);
                    for (int r = 0; r < n; r++) {
                        for (int s = 0; s < n; s++) {
                            avg[r][s] += cov[c][r][s] / k;
                        }
                    }
                }
                for (int i = 0; i < 4; i++) {
                    double[] xi = java.util.Arrays.copyOfRange(xs, i * n, (i + 1) * n);
                    double[] logLik = new double[k];
                    double[][] condMean = new double[k][];
                    for (int c = 0; c < k; c++) {
                        double[][] a = plusSigma(cov[c], sigma);
                        double[] sol = solve(a, xi);
                        logLik[c] = -0.5 * dot(xi, sol) - 0.5 * logDet(a);
                        condMean[c] = times(cov[c], sol);
                    }
                    double max = Math.max(logLik[0], Math.max(logLik[1], logLik[2]));
                    double z = 0;
                    for (double l : logLik) {
                        z += Math.exp(l - max);
                    }
                    double[] want = new double[n];
                    for (int c = 0; c < k; c++) {
                        double wc = Math.exp(logLik[c] - max) / z;
                        assertEquals(wc, w[i * k + c], 1e-9, space + " posterior of class " + c);
                        for (int r = 0; r < n; r++) {
                            want[r] += wc * condMean[c][r];
                        }
                    }
                    assertArrayEquals(want, java.util.Arrays.copyOfRange(mean, i * n, (i + 1) * n), 1e-9, space + " mean");
                    double[] wantLin = times(avg, solve(plusSigma(avg, sigma), xi));
                    assertArrayEquals(wantLin, java.util.Arrays.copyOfRange(lin, i * n, (i + 1) * n), 1e-9, space + " linear");
                }
            }
        }
    }

    @Test
    void bayesAccuracyCountsArgmaxOfTheClassPosterior() {
        try (PointerScope scope = new PointerScope()) {
            double[][][] u = MolrgData.bases(6, 2, 3, 2);
            MolrgPosterior post = new MolrgPosterior(flat(u), 0.1);
            double[] xs = new double[3 * 6];
            for (int r = 0; r < 6; r++) {
                xs[r] = u[0][r][0];          // in class 0's subspace
                xs[6 + r] = u[2][r][1];      // class 2
                xs[12 + r] = u[1][r][0];     // class 1
            }
            Tensor x = DoubleTensors.fromDoubles(xs, 3, 6);
            assertEquals(1.0, post.bayesAccuracy(x, 0.3, new long[]{0, 2, 1}), 0);
            assertEquals(1.0 / 3, post.bayesAccuracy(x, 0.3, new long[]{0, 1, 2}), 1e-12);
        }
    }

    /** Cov(x0 | class c): P_c + delta^2 (sum of the other P_l, or I - P_c). */
    private static double[][] classCovariance(double[][][] u, int c, double delta, MolrgNoiseSpace space) {
        int n = u[0].length;
        double[][] cov = new double[n][n];
        for (int l = 0; l < u.length; l++) {
            double scale = l == c ? 1 : space == MolrgNoiseSpace.OTHERS ? delta * delta : 0;
            addProjector(cov, u[l], scale);
        }
        if (space == MolrgNoiseSpace.COMPLEMENT) {
            for (int r = 0; r < n; r++) {
                cov[r][r] += delta * delta;
            }
            addProjector(cov, u[c], -delta * delta);
        }
        return cov;
    }

    private static void addProjector(double[][] m, double[][] b, double scale) {
        for (int r = 0; r < m.length; r++) {
            for (int s = 0; s < m.length; s++) {
                double v = 0;
                for (int j = 0; j < b[0].length; j++) {
                    v += b[r][j] * b[s][j];
                }
                m[r][s] += scale * v;
            }
        }
    }

    private static double[][] plusSigma(double[][] c, double sigma) {
        double[][] a = new double[c.length][];
        for (int r = 0; r < c.length; r++) {
            a[r] = c[r].clone();
            a[r][r] += sigma * sigma;
        }
        return a;
    }

    /** Gaussian elimination with partial pivoting. */
    private static double[] solve(double[][] a0, double[] b0) {
        int n = b0.length;
        double[][] a = new double[n][];
        for (int r = 0; r < n; r++) {
            a[r] = java.util.Arrays.copyOf(a0[r], n + 1);
            a[r][n] = b0[r];
        }
        for (int c = 0; c < n; c++) {
            int p = c;
            for (int r = c + 1; r < n; r++) {
                if (Math.abs(a[r][c]) > Math.abs(a[p][c])) {
                    p = r;
                }
            }
            double[] t = a[c];
            a[c] = a[p];
            a[p] = t;
            for (int r = 0; r < n; r++) {
                if (r != c) {
                    double f = a[r][c] / a[c][c];
                    for (int s = c; s <= n; s++) {
                        a[r][s] -= f * a[c][s];
                    }
                }
            }
        }
        double[] x = new double[n];
        for (int r = 0; r < n; r++) {
            x[r] = a[r][n] / a[r][r];
        }
        return x;
    }

    private static double logDet(double[][] a0) {
        int n = a0.length;
        double[][] a = new double[n][];
        for (int r = 0; r < n; r++) {
            a[r] = a0[r].clone();
        }
        double ld = 0;
        for (int c = 0; c < n; c++) { // symmetric positive definite: no pivoting needed
            ld += Math.log(a[c][c]);
            for (int r = c + 1; r < n; r++) {
                double f = a[r][c] / a[c][c];
                for (int s = c; s < n; s++) {
                    a[r][s] -= f * a[c][s];
                }
            }
        }
        return ld;
    }

    private static double[] times(double[][] m, double[] v) {
        double[] out = new double[m.length];
        for (int r = 0; r < m.length; r++) {
            out[r] = dot(m[r], v);
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static Tensor flat(double[][][] u) {
        int k = u.length, n = u[0].length, d = u[0][0].length;
        double[] f = new double[k * n * d];
        for (int c = 0; c < k; c++) {
            for (int r = 0; r < n; r++) {
                System.arraycopy(u[c][r], 0, f, (c * n + r) * d, d);
            }
        }
        return DoubleTensors.fromDoubles(f, k, n, d);
    }

    static Tensor bases(MolrgData data) {
        return flat(data.bases());
    }

    static long[] labels(MolrgData data) {
        long[] labels = new long[data.labels().length];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = data.labels()[i];
        }
        return labels;
    }
}
