package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The memorisation measure on constructed cases whose distances are known, and on real digits. */
class MemorisationMeasureTest {

    private static Tensor rows(float[] v, int n) {
        return Tensors.fromFloats(v, n, v.length / n);
    }

    @Test
    void samplesThatAreTrainingImagesGiveRatioZeroAndAllCopies() {
        float[] px = MnistPixels.load(40).pixels();
        try (PointerScope s = new PointerScope()) {
            Tensor train = rows(Arrays.copyOfRange(px, 0, 20 * 784), 20);
            Tensor held = rows(Arrays.copyOfRange(px, 20 * 784, 40 * 784), 20);
            // a "model" whose samples are training images 3, 7, 7 and 12
            float[] samples = new float[4 * 784];
            int[] which = {3, 7, 7, 12};
            for (int i = 0; i < 4; i++) {
                System.arraycopy(px, which[i] * 784, samples, i * 784, 784);
            }
            MemorisationMeasure m = MemorisationMeasure.of(rows(samples, 4), train, train, held);
            assertEquals(0.0, m.medianRatio(), 1e-6);
            assertEquals(1.0, m.memorisedFraction(), 0);
            assertArrayEquals(which, m.nearestTrain());
            for (int i = 0; i < 4; i++) {
                assertEquals(0.0, m.trainDistance()[i], 1e-3);
                assertTrue(m.heldOutDistance()[i] > 1, "a digit is far from every other digit");
            }
            // samples that are held-out digits: the training set is never nearer than the held-out one
            MemorisationMeasure h = MemorisationMeasure.of(rows(Arrays.copyOfRange(px, 20 * 784, 24 * 784), 4), train,
                    train, held);
            assertEquals(0.0, h.memorisedFraction(), 0, "real new digits are not copies");
            assertTrue(Double.isInfinite(h.medianRatio()) || h.medianRatio() > 10, "ratio " + h.medianRatio());
        }
    }

    @Test
    void distancesAndRatiosOnPointsOfALine() {
        try (PointerScope s = new PointerScope()) {
            // 1-D points: training images at 0, 10 and 30, held-out at 4 and 20; samples at 1, 5, 9
            Tensor train = rows(new float[]{0, 10, 30}, 3);
            Tensor matched = rows(new float[]{0, 10}, 2);
            Tensor held = rows(new float[]{4, 20}, 2);
            MemorisationMeasure m = MemorisationMeasure.of(rows(new float[]{1, 5, 9}, 3), train, matched, held);
            assertArrayEquals(new double[]{1, 5, 1}, m.trainDistance(), 1e-5);
            assertArrayEquals(new double[]{9, 5, 9}, m.secondTrainDistance(), 1e-5);
            assertArrayEquals(new double[]{3, 1, 5}, m.heldOutDistance(), 1e-5);
            assertEquals(0, m.nearestTrain()[0]);
            assertEquals(1, m.nearestTrain()[2]); // (the sample at 5 is a tie)
            // ratios 1/3, 5, 1/5: median 1/3; copies: 1/9 and 1/9 are < 1/3, 5/5 is not
            assertEquals(1.0 / 3, m.medianRatio(), 1e-6);
            assertEquals(2.0 / 3, m.memorisedFraction(), 1e-12);
            assertEquals(1.0 / 9, m.medianNearestRatio(), 1e-6);
        }
    }
}
