package org.diffrep.study;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.data.MolrgData;
import org.diffrep.data.MolrgParams;
import org.diffrep.noise.Seeds;
import org.diffrep.noise.VpSchedule;
import org.diffrep.ops.DoubleTensors;
import org.diffrep.ops.Tensors;
import org.diffrep.theory.Csnr;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.diffrep.CurveShape.argmax;

/** The networks shipped for the demo load, and on clean input their CSNR (ratio of means) peaks inside the grid. */
class MolrgDemoModelsTest {

    @Test
    void theShippedNetworksLoadAndTheirCleanInputCsnrPeaksInsideTheGrid() {
        MolrgExperiment.Settings s = MolrgExperiment.Settings.demo();
        try (PointerScope scope = new PointerScope()) {
            // the demo's mixture (its bases), and 1000 fresh clean samples of it
            double[][][] u = MolrgData.generate(new MolrgParams(s.n(), s.d(), s.k(), s.delta(), 3, s.seed())).bases();
            MolrgData.Samples test = MolrgData.draw(u, s.delta(), 1000, Seeds.derive(s.seed(), 777));
            Tensor x0 = Tensors.fromFloats(test.x0Flat(), 1000, s.n());
            double[] flat = new double[s.k() * s.n() * s.d()];
            for (int c = 0; c < s.k(); c++) {
                for (int r = 0; r < s.n(); r++) {
                    System.arraycopy(u[c][r], 0, flat, (c * s.n() + r) * s.d(), s.d());
                }
            }
            Tensor bases = DoubleTensors.fromDoubles(flat, s.k(), s.n(), s.d());
            VpSchedule vp = VpSchedule.linear(s.vpSteps());
            int[] ts = s.timesteps();
            double[] mean = new double[ts.length];
            for (int j = 0; j < s.seeds(); j++) {
                MolrgModels.Loaded loaded = MolrgModels.load(s.models(), MolrgExperiment.modelFile(j), s.n(), s.hidden());
                double[] curve = new double[ts.length];
                for (int i = 0; i < ts.length; i++) {
                    Tensor out = MolrgExperiment.network(loaded.mlp(), x0, vp.sigmaAtStep(ts[i]))[0];
                    curve[i] = Csnr.of(out, bases, test.labelsLong()).ratioOfMeans();
                    mean[i] += curve[i] / s.seeds();
                }
                int p = argmax(curve);
                assertTrue(p > 0 && p < ts.length - 1, "seed " + j + ": " + Arrays.toString(curve));
                assertTrue(loaded.steps() > 0, "provenance records the training steps");
            }
            int p = argmax(mean);
            assertTrue(p > 0 && p < ts.length - 1, Arrays.toString(mean));
        }
    }
}
