package org.diffrep.theory;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.data.MolrgData;
import org.diffrep.data.MolrgParams;
import org.diffrep.ops.DoubleTensors;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.diffrep.CurveShape.argmax;
import static org.diffrep.CurveShape.unimodal;

/** The research's claim on the analytic denoiser: its CSNR rises, then falls, over the noise level. */
class MolrgCsnrCurveTest {

    @Test
    void analyticCsnrOfTheDefaultMixtureIsUnimodalWithAnInteriorPeak() {
        try (PointerScope scope = new PointerScope()) {
            MolrgData data = MolrgData.generate(new MolrgParams(50, 5, 3, 0.2, 3000, 0));
            double[] flat = new double[3 * 50 * 5];
            for (int k = 0; k < 3; k++) {
                for (int r = 0; r < 50; r++) {
                    System.arraycopy(data.bases()[k][r], 0, flat, (k * 50 + r) * 5, 5);
                }
            }
            MolrgPosterior post = new MolrgPosterior(DoubleTensors.fromDoubles(flat, 3, 50, 5), 0.2);
            long[] labels = new long[3000];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = data.labels()[i];
            }
            float[] x0 = data.x0Flat();
            // the same eps at every level, so the curve is smooth in sigma
            Random rng = new Random(4);
            float[] eps = new float[x0.length];
            for (int i = 0; i < eps.length; i++) {
                eps[i] = (float) rng.nextGaussian();
            }
            int levels = 41;
            double[] sigma = new double[levels], mor = new double[levels], rom = new double[levels];
            for (int j = 0; j < levels; j++) {
                sigma[j] = Math.pow(10, -2 + 3.0 * j / (levels - 1)); // 0.01 .. 10
                float[] xt = new float[x0.length];
                for (int i = 0; i < xt.length; i++) {
                    xt[i] = (float) (x0[i] + sigma[j] * eps[i]);
                }
                Tensor x = Tensors.fromFloats(xt, 3000, 50);
                Csnr.Result r = Csnr.of(post.mean(x, sigma[j]), post.bases(), labels);
                mor[j] = r.meanOfRatios();
                rom[j] = r.ratioOfMeans();
            }
            int pm = argmax(mor), pr = argmax(rom);
            assertTrue(pm > 0 && pm < levels - 1 && unimodal(mor), "mean of ratios must rise then fall");
            assertTrue(pr > 0 && pr < levels - 1 && unimodal(rom), "ratio of means must rise then fall");
            // a NumPy check of the same formulas put the peaks near sigma 0.7 and 0.3
            assertTrue(sigma[pm] > 0.45 && sigma[pm] < 1.1, "mean-of-ratios peak at sigma " + sigma[pm]);
            assertTrue(sigma[pr] > 0.18 && sigma[pr] < 0.5, "ratio-of-means peak at sigma " + sigma[pr]);
        }
    }
}
