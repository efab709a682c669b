package org.diffrep.probe;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.ops.DoubleTensors;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogisticProbeTest {

    /** Overlapping Gaussian blobs: class k centred at k * shift along each axis, so the optimum is finite. */
    private static double[] blobs(int n, int c, int k, double shift, long[] labels, Random rng) {
        double[] x = new double[n * c];
        for (int i = 0; i < n; i++) {
            labels[i] = i % k;
            for (int j = 0; j < c; j++) {
                x[i * c + j] = rng.nextGaussian() + (j % k == labels[i] ? shift : 0);
            }
        }
        return x;
    }

    @Test
    void lbfgsReachesTheOptimumOfANewtonSolveInDouble() {
        try (PointerScope scope = new PointerScope()) {
            int n = 90, c = 4, k = 3;
            double l2 = 0.05;
            long[] y = new long[n];
            double[] x = blobs(n, c, k, 1.0, y, new Random(5));
            Tensor xt = DoubleTensors.fromDoubles(x, n, c);
            SoftmaxObjective objective = new SoftmaxObjective(xt, y, k, l2);
            Lbfgs.Result r = Lbfgs.minimize(objective, objective.zeros(), new Lbfgs.Settings(500, 1e-10, 0, 10));
            assertTrue(r.converged(), "L-BFGS should meet its gradient tolerance, max |g| " + r.gradMax());

            double[] newton = NewtonSoftmax.solve(x, y, n, c, k, l2);
            double fNewton = NewtonSoftmax.value(x, y, n, c, k, l2, newton);
            assertEquals(fNewton, r.value(), 1e-10);
            // the bias is unique only up to a common shift, so compare W and the probabilities
            double[] p = r.x();
            for (int i = 0; i < c * k; i++) {
                assertEquals(newton[i], p[i], 1e-5, "weight " + i);
            }
            double[] probL = NewtonSoftmax.probabilities(x, n, c, k, p);
            double[] probN = NewtonSoftmax.probabilities(x, n, c, k, newton);
            for (int i = 0; i < probL.length; i++) {
                assertEquals(probN[i], probL[i], 1e-6);
            }
        }
    }

    @Test
    void separableTwoClassProblemStaysFiniteAndIsSolved() {
        try (PointerScope scope = new PointerScope()) {
            // separable: the L2 penalty is what keeps the optimum finite
            int n = 40, c = 2;
            double[] x = new double[n * c];
            long[] y = new long[n];
            Random rng = new Random(9);
            for (int i = 0; i < n; i++) {
                y[i] = i % 2;
                x[i * c] = (y[i] == 1 ? 2 : -2) + 0.3 * rng.nextGaussian();
                x[i * c + 1] = rng.nextGaussian();
            }
            Tensor xt = DoubleTensors.fromDoubles(x, n, c);
            double l2 = 1e-3;
            SoftmaxObjective objective = new SoftmaxObjective(xt, y, 2, l2);
            Lbfgs.Result r = Lbfgs.minimize(objective, objective.zeros(), new Lbfgs.Settings(2000, 1e-9, 0, 10));
            assertTrue(r.converged(), "max |g| " + r.gradMax());
            double[] newton = NewtonSoftmax.solve(x, y, n, c, 2, l2);
            assertEquals(NewtonSoftmax.value(x, y, n, c, 2, l2, newton), r.value(), 1e-9);

            LogisticProbe probe = LogisticProbe.fit(xt, y, 2, LogisticProbe.Settings.DEFAULTS);
            ProbeResult res = probe.evaluate(xt, y);
            assertEquals(1.0, res.accuracy(), 0);
            assertNull(res.top5Accuracy());
            assertEquals(20, res.confusion()[0][0]);
            assertEquals(20, res.confusion()[1][1]);
        }
    }

    @Test
    void probeScoresHeldOutDataAndReportsTop5ForManyClasses() {
        try (PointerScope scope = new PointerScope()) {
            int c = 24, k = 12;
            Random rng = new Random(1);
            long[] ytr = new long[1200], yte = new long[600];
            Tensor tr = DoubleTensors.fromDoubles(blobs(1200, c, k, 2.5, ytr, rng), 1200, c);
            Tensor te = DoubleTensors.fromDoubles(blobs(600, c, k, 2.5, yte, rng), 600, c);
            LogisticProbe probe = LogisticProbe.fit(tr, ytr, k, LogisticProbe.Settings.DEFAULTS);
            ProbeResult res = probe.evaluate(te, yte);
            assertTrue(res.l2Searched());
            assertTrue(res.accuracy() > 0.6, "accuracy " + res.accuracy());
            assertNotNull(res.top5Accuracy());
            assertTrue(res.top5Accuracy() >= res.accuracy());
            assertEquals(k, res.perClassAccuracy().length);
            long total = 0;
            for (long[] row : res.confusion()) {
                for (long v : row) {
                    total += v;
                }
            }
            assertEquals(600, total);
            // minibatch Adam on the same data lands near the full-batch probe
            LogisticProbe.Settings adam = LogisticProbe.Settings.builder().l2(probe.l2()).fullBatchMaxValues(0)
                    .adamEpochs(40).adamBatch(128).adamLearningRate(1e-2).build();
            ProbeResult resAdam = LogisticProbe.fit(tr, ytr, k, adam).evaluate(te, yte);
            assertEquals(res.accuracy(), resAdam.accuracy(), 0.05);
        }
    }
}
