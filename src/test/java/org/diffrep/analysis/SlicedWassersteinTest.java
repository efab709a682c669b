package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlicedWassersteinTest {

    static Tensor gaussian(int n, int d, double shift, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int q = 0; q < d; q++) {
                x[i * d + q] = (float) (r.nextGaussian() + (q == 0 ? shift : 0));
            }
        }
        return Tensors.fromFloats(x, n, d);
    }

    @Test
    void aSetAgainstItselfIsZero() {
        try (PointerScope s = new PointerScope()) {
            Tensor a = gaussian(500, 8, 0, 1);
            assertEquals(0.0, SlicedWasserstein.distance(a, a, 128, 0), 1e-9);
        }
    }

    /** N(0, I) against N(mu, I): SW = |mu| / sqrt(d) = 2 / 2 = 1 in d = 4; equal and unequal sizes. */
    @Test
    void shiftedGaussiansGiveTheKnownValue() {
        try (PointerScope s = new PointerScope()) {
            Tensor a = gaussian(4000, 4, 0, 1);
            Tensor b = gaussian(4000, 4, 2, 2);
            Tensor c = gaussian(2500, 4, 2, 3);
            assertEquals(1.0, SlicedWasserstein.distance(a, b, 512, 0), 0.05);
            assertEquals(1.0, SlicedWasserstein.distance(a, c, 512, 0), 0.05);
            // symmetric, and seeded: same directions give the same value
            assertEquals(SlicedWasserstein.distance(a, c, 64, 5), SlicedWasserstein.distance(c, a, 64, 5), 1e-6);
            // two samples of one distribution: small
            assertTrue(SlicedWasserstein.distance(b, c, 256, 0) < 0.1);
        }
    }

    @Test
    void quantileInterpolates() {
        float[] s = {0, 10};
        assertEquals(0, SlicedWasserstein.quantile(s, 0, 2, 0.25), 1e-12);
        assertEquals(5, SlicedWasserstein.quantile(s, 0, 2, 0.5), 1e-12);
        assertEquals(10, SlicedWasserstein.quantile(s, 0, 2, 0.9), 1e-12);
    }

    @Test
    void widthsMustAgree() {
        try (PointerScope s = new PointerScope()) {
            var e = assertThrows(InvalidInputException.class,
                    () -> SlicedWasserstein.distance(gaussian(10, 3, 0, 1), gaussian(10, 4, 0, 1), 8, 0));
            assertEquals("feature sets differ in width: 3 vs 4", e.getMessage());
        }
    }
}
