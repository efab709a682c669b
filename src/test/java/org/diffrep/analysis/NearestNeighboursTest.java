package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NearestNeighboursTest {

    @Test
    void pointsOnALine() {
        try (PointerScope s = new PointerScope()) {
            Tensor x = Tensors.fromFloats(new float[]{0, 1, 3, 7, 8}, 5, 1);
            NearestNeighbours.Result r = NearestNeighbours.search(x, x.narrow(0, 2, 1), 2, new int[]{2});
            assertArrayEquals(new int[]{1, 0}, r.indices()[0]);
            assertArrayEquals(new float[]{4, 9}, r.distances()[0], 1e-5f);
            r = NearestNeighbours.search(x, Tensors.fromFloats(new float[]{7.6f}, 1, 1), 3, null);
            assertArrayEquals(new int[]{4, 3, 2}, r.indices()[0]);
        }
    }

    /** Real digits: 3-NN on pixels of 1500 training digits labels 500 held-out digits far above chance. */
    @Test
    void mnistKnnAccuracy() throws Exception {
        MnistPixels m = MnistPixels.load(2000);
        try (PointerScope s = new PointerScope()) {
            Tensor all = Tensors.fromFloats(m.pixels(), m.count(), MnistPixels.D);
            double acc = NearestNeighbours.accuracy(all.narrow(0, 0, 1500), Arrays.copyOf(m.labels(), 1500),
                    all.narrow(0, 1500, 500).contiguous(), Arrays.copyOfRange(m.labels(), 1500, 2000), 3);
            assertTrue(acc > 0.85, "3-NN accuracy " + acc);
        }
    }

    @Test
    void badInput() {
        try (PointerScope s = new PointerScope()) {
            Tensor x = Tensors.fromFloats(new float[]{0, 1, 3}, 3, 1);
            var e = assertThrows(InvalidInputException.class, () -> NearestNeighbours.search(x, x, 3, new int[]{0, 1, 2}));
            assertEquals("k 3 must be in [1, 2] for 3 rows", e.getMessage());
            Tensor y = Tensors.fromFloats(new float[]{0, 1}, 1, 2);
            e = assertThrows(InvalidInputException.class, () -> NearestNeighbours.search(x, y, 1, null));
            assertEquals("queries have width 2, the base 1", e.getMessage());
        }
    }
}
