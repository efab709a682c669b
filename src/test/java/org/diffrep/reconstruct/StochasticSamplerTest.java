package org.diffrep.reconstruct;

import org.diffrep.InvalidInputException;
import org.diffrep.analysis.NearestNeighbours;
import org.diffrep.data.BuiltinFiles;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;


import org.bytedeco.javacpp.PointerScope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StochasticSamplerTest {

    static float[] digits(int count) {
        byte[] raw = BuiltinFiles.mnistImagesIdx();
        float[] x = new float[count * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = (raw[16 + i] & 0xff) / 127.5f - 1f;
        }
        return x;
    }

    @Test
    void stepSchedule() {
        SamplerConfig c = new SamplerConfig(0.1, 0.5, 1, 0.01, 10, false, 0);
        assertEquals(0.1, c.step(1), 1e-12);
        assertEquals(0.2 / 1.1, c.step(2), 1e-12);
        assertEquals(0.1, new SamplerConfig(0.1, 0.5, 1, 0.01, 10, true, 0).step(7), 1e-12);
    }

    /**
     * With the exact denoiser of 200 real digits, samples must land on digits: the RMS distance to the
     * nearest training digit is far below the typical distance between two different digits (about 0.6
     * in [-1, 1] pixel units), and every sample stops by reaching sigmaEnd.
     */
    @Test
    void samplesFromTheIdealDenoiserOfRealDigitsAreDigits() throws Exception {
        int m = 200;
        float[] train = digits(m);
        EmpiricalDenoiser d = new EmpiricalDenoiser(train, m, new long[]{1, 28, 28});
        StochasticSampler.Samples s = new StochasticSampler(d, new SamplerConfig(0.05, 0.5, 1, 0.01, 500, false, 3))
                .sample(4);
        try (PointerScope scope = new PointerScope()) {
            float[] flat = new float[4 * 784];
            for (int b = 0; b < 4; b++) {
                System.arraycopy(s.images()[b], 0, flat, b * 784, 784);
                assertTrue(s.finalSigma()[b] < 0.01, "sample " + b + " stopped at sigma " + s.finalSigma()[b]);
                assertTrue(s.steps()[b] > 5 && s.steps()[b] < 500, "steps " + s.steps()[b]);
            }
            NearestNeighbours.Result nn = NearestNeighbours.search(Tensors.fromFloats(train, m, 784),
                    Tensors.fromFloats(flat, 4, 784), 2, null);
            for (int b = 0; b < 4; b++) {
                double rmsNearest = Math.sqrt(nn.distances()[b][0] / 784);
                double rmsSecond = Math.sqrt(nn.distances()[b][1] / 784);
                assertTrue(rmsNearest < 0.05, "sample " + b + ": RMS to nearest digit " + rmsNearest);
                assertTrue(rmsSecond > 0.3, "sample " + b + ": RMS to second digit " + rmsSecond);
            }
        }
        // seeded: the same run gives the same samples
        StochasticSampler.Samples again = new StochasticSampler(d, new SamplerConfig(0.05, 0.5, 1, 0.01, 500, false, 3))
                .sample(4);
        assertEquals(s.images()[2][400], again.images()[2][400], 0f);
    }

    @Test
    void badSettingsAreRefused() {
        var e = assertThrows(InvalidInputException.class, () -> new SamplerConfig(0.01, 0, 1, 0.01, 10, false, 0));
        assertEquals("beta must be in (0, 1], got 0.0", e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> new SamplerConfig(0.01, 0.5, 0.01, 1, 10, false, 0));
        assertEquals("need 0 < sigmaEnd < sigmaStart, got 1.0 and 0.01", e.getMessage());
    }
}
