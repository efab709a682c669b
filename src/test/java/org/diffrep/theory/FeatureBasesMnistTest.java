package org.diffrep.theory;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.data.Batch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** CSNR of real features: MNIST pixels carry class structure that shuffled labels do not. */
class FeatureBasesMnistTest {

    @Test
    void mnistPixelsHaveHigherCsnrWithTrueLabelsThanWithShuffledOnes() {
        Dataset mnist = DataSpec.open("builtin:mnist");
        int n = 1000;
        try (PointerScope scope = new PointerScope()) {
            long[] idx = new long[n];
            for (int i = 0; i < n; i++) {
                idx[i] = i;
            }
            Batch b = mnist.batch(idx);
            Tensor feats = b.images().reshape(n, -1);
            long[] labels = Tensors.toLongs(b.labels());
            long[] shuffled = labels.clone();
            Random rng = new Random(0);
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                long t = shuffled[i];
                shuffled[i] = shuffled[j];
                shuffled[j] = t;
            }
            Csnr.Result real = FeatureBases.csnr(feats, labels, 10, FeatureBases.DEFAULT_RANK);
            Csnr.Result chance = FeatureBases.csnr(feats, shuffled, 10, FeatureBases.DEFAULT_RANK);
            assertTrue(real.ratioOfMeans() > 1.5 * chance.ratioOfMeans(),
                    "true labels " + real + " vs shuffled " + chance);
            assertTrue(real.meanOfRatios() > chance.meanOfRatios());
        }
    }
}
