package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SplitAndLabelNoiseTest {

    static Dataset mnist;

    @BeforeAll
    static void load() {
        mnist = DataSpec.open("builtin:mnist");
    }

    @Test
    void stratifiedSplitIsDeterministicAndExactPerClass() {
        Split a = Split.of(mnist, 0.8, 1);
        assertEquals(a, Split.of(mnist, 0.8, 1));
        assertNotEquals(a, Split.of(mnist, 0.8, 2));
        int[] counts = mnist.classCounts();
        int[] train = new int[10];
        for (int i : a.trainIndices()) {
            train[mnist.label(i)]++;
        }
        int total = 0;
        for (int k = 0; k < 10; k++) {
            assertEquals(Math.round(0.8 * counts[k]), train[k]);
            total += train[k];
        }
        assertEquals(total, a.trainIndices().length);
        assertEquals(10000 - total, a.testIndices().length);
        // Choose: no archive split, no fraction -> 0.8 stratified.
        assertEquals(a, Split.choose(mnist, null, 1));
        assertEquals(Split.of(mnist, 0.5, 1), Split.choose(mnist, 0.5, 1));
        assertThrows(InvalidInputException.class, () -> Split.of(mnist, 0, 1));
        assertThrows(InvalidInputException.class, () -> Split.of(mnist, 1.5, 1));
    }

    @Test
    void labelNoiseFlipsAnExactFractionOfTrainingLabelsOnly() {
        Split split = Split.of(mnist, 0.8, 0);
        int[] labels = mnist.labels();
        for (double fraction : new double[]{0, 0.2, 0.5, 0.8, 1}) {
            LabelNoise.Noisy noisy = LabelNoise.flip(labels, 10, split, fraction, 11);
            int expected = (int) Math.round(fraction * split.trainIndices().length);
            assertEquals(expected, noisy.flippedCount());
            int changed = 0;
            int[] hits = new int[10];
            for (int i = 0; i < labels.length; i++) {
                boolean differs = noisy.labels()[i] != labels[i];
                assertEquals(noisy.flipped()[i], differs);
                if (!split.isTrain(i)) {
                    assertEquals(labels[i], noisy.labels()[i], "test label " + i + " touched");
                }
                assertTrue(noisy.labels()[i] >= 0 && noisy.labels()[i] < 10);
                changed += differs ? 1 : 0;
                if (differs) {
                    hits[noisy.labels()[i]]++;
                }
            }
            assertEquals(expected, changed);
            if (fraction == 0.8) {
                // Uniform over the other classes: each class receives roughly a tenth of the flips.
                for (int k = 0; k < 10; k++) {
                    assertEquals(expected / 10.0, hits[k], expected / 10.0 * 0.2, "class " + k);
                }
            }
        }
        assertArrayEquals(LabelNoise.flip(labels, 10, split, 0.3, 5).labels(), LabelNoise.flip(labels, 10, split, 0.3, 5).labels());
        assertThrows(InvalidInputException.class, () -> LabelNoise.flip(labels, 10, split, 1.2, 5));
    }

    @Test
    void maskRoundTripsThroughNpy(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        Split s = Split.of(mnist, 0.7, 3);
        Npy.write(dir.resolve("split.npy"), s.mask());
        Npy.Array a = Npy.read(dir.resolve("split.npy"));
        assertEquals(Npy.DType.UINT8, a.dtype());
        assertEquals(s, new Split(a.toBytes()));
    }
}
