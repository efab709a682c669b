package org.diffrep.noise;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NoiseScheduleTest {

    @Test
    void edmEndsAndRoundTrip() {
        EdmSchedule s = EdmSchedule.DEFAULT;
        assertEquals(0.002, s.sigma(0), 1e-12);
        assertEquals(80, s.sigma(1), 1e-9);
        for (double sigma : new double[]{0.002, 0.01, 0.5, 1, 7.3, 80}) {
            assertEquals(sigma, s.sigma(s.t(sigma)), 1e-9 * sigma);
        }
        double[] levels = s.levels(18);
        assertEquals(18, levels.length);
        for (int i = 1; i < levels.length; i++) {
            assertTrue(levels[i] > levels[i - 1]);
        }
        // Karras et al.: sigma_i = (smax^(1/7) + i/(N-1) (smin^(1/7) - smax^(1/7)))^7, here read ascending.
        double a = Math.pow(0.002, 1 / 7.0);
        double b = Math.pow(80, 1 / 7.0);
        assertEquals(Math.pow(b + 5.0 / 17 * (a - b), 7), levels[17 - 5], 1e-9);
    }

    @Test
    void vpLinearMatchesDdpmAndRoundTrips() {
        for (int steps : new int[]{1000, 500}) {
            VpSchedule s = VpSchedule.linear(steps);
            assertEquals(steps, s.steps());
            // alphabar_0 = 1 - 1e-4, so sigma_0 = sqrt(1e-4 / (1 - 1e-4)).
            assertEquals(Math.sqrt(1e-4 / (1 - 1e-4)), s.sigma(0), 1e-12);
            double alphaBar = 1;
            for (int i = 0; i < steps; i++) {
                alphaBar *= 1 - (1e-4 + (0.02 - 1e-4) * i / (steps - 1));
            }
            assertEquals(Math.sqrt((1 - alphaBar) / alphaBar), s.sigma(steps - 1), 1e-9 * s.sigma(steps - 1));
            for (int t = 0; t < steps; t += 37) {
                assertEquals(t, s.t(s.sigmaAtStep(t)), 1e-9);
            }
            for (double sigma : new double[]{0.05, 0.14, 0.585, 1.923, 3.257, 12, 20}) {
                if (sigma > s.sigmaMax()) {
                    assertEquals(steps - 1, s.t(sigma), "clamped above the range");
                    continue;
                }
                assertEquals(sigma, s.sigma(s.t(sigma)), 1e-9 * sigma, "T=" + steps + " sigma=" + sigma);
            }
            for (double t : new double[]{0.25, 10.5, 123.456, steps - 1.5}) {
                assertEquals(t, s.t(s.sigma(t)), 1e-8);
            }
        }
        // The ranges: T=1000 reaches sigma ~ 157 (as DDPM), T=500 only ~ 12.5.
        assertEquals(157, VpSchedule.linear(1000).sigmaMax(), 1);
        assertEquals(12.5, VpSchedule.linear(500).sigmaMax(), 0.1);
    }

    @Test
    void vpCosineRoundTripsAndClamps() {
        VpSchedule s = VpSchedule.cosine(1000);
        for (double sigma : new double[]{0.05, 0.5, 1, 10, 100}) {
            assertEquals(sigma, s.sigma(s.t(sigma)), 1e-9 * sigma);
        }
        for (int t = 1; t < 1000; t++) {
            assertTrue(s.sigmaAtStep(t) > s.sigmaAtStep(t - 1));
        }
        assertEquals(0, s.t(1e-6));
        assertEquals(999, s.t(1e9));
    }

    @Test
    void vpInputScale() {
        assertEquals(1, NoiseSchedule.vpInputScale(0), 0);
        assertEquals(1 / Math.sqrt(2), NoiseSchedule.vpInputScale(1), 1e-15);
        // s * (x0 + sigma eps) = sqrt(alphabar) x0 + sqrt(1 - alphabar) eps.
        VpSchedule v = VpSchedule.linear(1000);
        double sigma = v.sigmaAtStep(400);
        double scale = NoiseSchedule.vpInputScale(sigma);
        assertEquals(1, scale * scale + scale * scale * sigma * sigma, 1e-12);
    }

    @Test
    void continuousTimeIsTheLimitOfDdpm() {
        try (PointerScope scope = new PointerScope()) {
            VpSchedule ddpm = VpSchedule.DDPM;
            float[] sigmas = new float[ddpm.steps()];
            for (int t = 0; t < sigmas.length; t++) {
                sigmas[t] = (float) ddpm.sigmaAtStep(t);
            }
            float[] u = Tensors.toFloats(VpSchedule.continuousTime(Tensors.fromFloats(sigmas)));
            double worst = 0;
            for (int t = 0; t < sigmas.length; t++) {
                // the closed form: sigma(u) = sqrt(exp(19.9 u^2 / 2 + 0.1 u) - 1)
                double back = Math.sqrt(Math.expm1(19.9 * u[t] * u[t] / 2 + 0.1 * u[t]));
                assertEquals(sigmas[t], back, 1e-4 * sigmas[t] + 1e-5, "step " + t);
                worst = Math.max(worst, Math.abs(999 * u[t] - t));
            }
            // the discrete table and its continuous-time form agree to a few steps (0.9 at t=0, 3.4 at t=999)
            assertTrue(worst < 3.5, "max |999 u(sigma_t) - t| = " + worst);
        }
    }

    @Test
    void badParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new EdmSchedule(1, 0.5, 7));
        assertThrows(IllegalArgumentException.class, () -> VpSchedule.linear(1));
        assertThrows(IllegalArgumentException.class, () -> VpSchedule.linear(100, 0.02, 1e-4));
    }
}
