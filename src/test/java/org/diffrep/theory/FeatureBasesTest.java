package org.diffrep.theory;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.ops.DoubleTensors;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureBasesTest {

    @Test
    void recoversPlantedClassSubspacesAndHandlesSmallClasses() {
        try (PointerScope scope = new PointerScope()) {
            // 3 classes in C=12: classes 0 and 1 live (up to small noise) on coordinates {0,1} and {4,5}
            // plus a shared offset; class 2 has only 3 rows, fewer than the rank
            Random rng = new Random(11);
            int perClass = 100, c = 12;
            int rows = 2 * perClass + 3;
            double[] x = new double[rows * c];
            long[] labels = new long[rows];
            for (int i = 0; i < rows; i++) {
                int k = i < perClass ? 0 : i < 2 * perClass ? 1 : 2;
                labels[i] = k;
                x[i * c + 10] = 3; // shared offset, removed by centring
                for (int j = 0; j < c; j++) {
                    x[i * c + j] += 0.01 * rng.nextGaussian();
                }
                int first = k * 4;
                x[i * c + first] += rng.nextGaussian();
                x[i * c + first + 1] += rng.nextGaussian();
            }
            Tensor feats = DoubleTensors.fromDoubles(x, rows, c);
            Tensor prepared = FeatureBases.prepare(feats);
            List<Tensor> bases = FeatureBases.fit(prepared, labels, 4, 5);
            assertEquals(5, bases.get(0).size(1));
            assertEquals(3, bases.get(2).size(1));
            assertEquals(0, bases.get(3).size(1));
            // bases are orthonormal
            double[] gram = DoubleTensors.toDoubles(bases.get(0).t().matmul(bases.get(0)));
            for (int a = 0; a < 5; a++) {
                for (int b = 0; b < 5; b++) {
                    assertEquals(a == b ? 1 : 0, gram[a * 5 + b], 1e-9);
                }
            }
            Csnr.Result r = FeatureBases.csnr(feats, labels, 4, 5);
            assertTrue(r.meanOfRatios() > 1, "classes with separate subspaces must have CSNR > 1, got " + r);
        }
    }
}
