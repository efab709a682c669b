package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.model.NetworkDenoiser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExtractorTest {

    static NetworkDenoiser model;

    @BeforeAll
    static void setUp() {
        org.diffrep.ops.Threads.set(2);
        model = ExtractFixture.mlp();
    }

    @Test
    void writesShapesLabelsSplitTopkAndManifest(@TempDir Path tmp) {
        Path out = tmp.resolve("store");
        ExtractConfig cfg = ExtractFixture.config(out).layers(List.of("enc.0", "enc.1", "out")).pool(Pooling.MEAN_MAX)
                .build();
        ExtractSummary sum = ExtractFixture.run(cfg, model);
        assertEquals(200, sum.images());

        FeatureStore store = FeatureStore.open(out);
        assertTrue(store.manifest().complete());
        assertEquals(List.of("enc.0", "enc.1", "out"), store.layers());
        assertEquals(200, store.count());
        assertArrayEquals(new float[]{0.01f, 0.1f, 1.0f}, store.sigmas());
        assertArrayEquals(new long[]{48}, store.mapShape("enc.0"));
        assertArrayEquals(new long[]{1, 28, 28}, store.mapShape("out"));
        assertFalse(Files.exists(out.resolve(StoreLayout.SHARDS)), "shards are removed at the end");

        Dataset data = ExtractFixture.mnist();
        long[] labels = store.labels();
        for (int i = 0; i < 200; i++) {
            assertEquals(data.label(i), labels[i], "label of row " + i);
        }
        assertEquals(200, store.trainMask().length);
        for (int j = 0; j < 3; j++) {
            float[][] f = store.features("enc.0", j);
            float[][] mx = store.featuresMax("enc.0", j);
            float[][] o = store.features("out", j);
            assertEquals(200, f.length);
            assertEquals(48, f[0].length);
            assertEquals(1, o[0].length);
            assertThrows(InvalidInputException.class, () -> store.topkIndices("enc.0", 0), "no top-k stored");
            float[][] mo = store.featuresMax("out", j);
            assertTrue(mo[3][0] >= o[3][0], "max of a map is at least its mean");
            for (int i = 0; i < 200; i++) {
                // A 2-D tap has one position: its mean and max are the activations themselves.
                assertArrayEquals(f[i], mx[i]);
            }
            // The tensor view over the mapped file holds the same numbers.
            float[] flat = org.diffrep.ops.Tensors.toFloats(store.featuresTensor("enc.0", j));
            assertEquals(f[17][5], flat[17 * 48 + 5]);
        }
    }

    @Test
    void topkHoldsTheLargestMeansWithTheirChannels(@TempDir Path tmp) {
        Path out = tmp.resolve("store");
        ExtractFixture.run(ExtractFixture.config(out).layers(List.of("enc.1")).topk(5).build(), model);
        FeatureStore store = FeatureStore.open(out);
        for (int j = 0; j < 3; j++) {
            float[][] f = store.features("enc.1", j);
            long[][] idx = store.topkIndices("enc.1", j);
            float[][] val = store.topkValues("enc.1", j);
            for (int i = 0; i < f.length; i++) {
                float[] sorted = f[i].clone();
                java.util.Arrays.sort(sorted);
                for (int k = 0; k < 5; k++) {
                    assertEquals(f[i][(int) idx[i][k]], val[i][k], "top-k value is the feature at its index");
                    assertEquals(sorted[sorted.length - 1 - k], val[i][k], "k-th largest");
                }
            }
        }
    }

    @Test
    void sameSeedGivesIdenticalFeaturesWithBatch7And64(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("b7"), b = tmp.resolve("b64");
        ExtractFixture.run(ExtractFixture.config(a).input(InputMode.NOISY).batch(7).build(), model);
        ExtractFixture.run(ExtractFixture.config(b).input(InputMode.NOISY).batch(64).build(), model);
        assertEquals(List.of(), ExtractFixture.differingFiles(a, b, "features"));
        assertEquals(List.of(), ExtractFixture.differingFiles(a, b, "labels"));
    }

    @Test
    void batchSizesThatCutForwardsAnywhereGiveIdenticalFeatures(@TempDir Path tmp) throws Exception {
        // 3 sigmas and 32-row forwards: batches of 5 and 11 start forwards at every offset; 64 never straddles.
        ExtractConfig.Builder cfg = ExtractFixture.config(tmp).layers(List.of("enc.0", "enc.1"))
                .input(InputMode.NOISY).limit(90).topk(4);
        Path ref = tmp.resolve("b64");
        ExtractFixture.run(cfg.out(ref).batch(64).build(), model);
        for (int batch : new int[]{5, 11}) {
            Path other = tmp.resolve("b" + batch);
            ExtractFixture.run(cfg.out(other).batch(batch).build(), model);
            assertEquals(List.of(), ExtractFixture.differingFiles(ref, other, "features"), "batch " + batch);
            assertEquals(List.of(), ExtractFixture.differingFiles(ref, other, "topk"), "batch " + batch);
        }
    }

    @Test
    void unetFeaturesDoNotDependOnBatchSize(@TempDir Path tmp) throws Exception {
        NetworkDenoiser unet = ExtractFixture.unet();
        ExtractConfig.Builder cfg = ExtractFixture.config(tmp).layers(List.of("enc.0", "mid", "dec.0"))
                .input(InputMode.NOISY).limit(24).forwardRows(16);
        Path a = tmp.resolve("b3"), b = tmp.resolve("b16");
        new Extractor(cfg.out(a).batch(3).build()).log(null).run(unet, "unet-99", ExtractFixture.mnist());
        new Extractor(cfg.out(b).batch(16).build()).log(null).run(unet, "unet-99", ExtractFixture.mnist());
        assertEquals(List.of(), ExtractFixture.differingFiles(a, b, "features"));
    }

    @Test
    void threadCountDoesNotChangeFeatures(@TempDir Path tmp) throws Exception {
        NetworkDenoiser unet = ExtractFixture.unet();
        ExtractConfig.Builder cfg = ExtractFixture.config(tmp).layers(List.of("enc.0", "mid", "dec.0"))
                .input(InputMode.NOISY).limit(24).forwardRows(16).batch(8);
        Path one = tmp.resolve("t1"), three = tmp.resolve("t3");
        try {
            new Extractor(cfg.out(one).threads(1).build()).log(null).run(unet, "unet-99", ExtractFixture.mnist());
            new Extractor(cfg.out(three).threads(3).build()).log(null).run(unet, "unet-99", ExtractFixture.mnist());
            ExtractFixture.run(ExtractFixture.config(one.resolve("mlp")).threads(1).build(), model);
            ExtractFixture.run(ExtractFixture.config(three.resolve("mlp")).threads(3).build(), model);
        } finally {
            org.diffrep.ops.Threads.set(2);
        }
        assertEquals(List.of(), ExtractFixture.differingFiles(one, three, "features"));
        assertEquals(List.of(), ExtractFixture.differingFiles(one.resolve("mlp"), three.resolve("mlp"), "features"));
    }

    @Test
    void runStoppedAfterTwoShardsAndResumedIsByteIdentical(@TempDir Path tmp) throws Exception {
        Path whole = tmp.resolve("whole"), killed = tmp.resolve("killed");
        ExtractConfig.Builder cfg = ExtractFixture.config(whole).layers(List.of("enc.0", "enc.1")).input(InputMode.NOISY)
                .pool(Pooling.MEAN_MAX).topk(3);
        ExtractFixture.run(cfg.build(), model);

        ExtractConfig first = cfg.out(killed).build();
        RuntimeException kill = assertThrows(RuntimeException.class, () -> new Extractor(first).log(null)
                .listener(new Extractor.Listener() {
                    @Override
                    public void afterShard(int shard) {
                        if (shard == 1) {
                            throw new RuntimeException("simulated kill");
                        }
                    }
                }).run(model, "mlp-seed-1234", ExtractFixture.mnist()));
        assertEquals("simulated kill", kill.getMessage());
        assertThrows(InvalidInputException.class, () -> FeatureStore.open(killed), "incomplete store refused");
        assertTrue(Files.isDirectory(StoreLayout.shardDir(killed, 1)));

        // A second kill in the middle of shard 2, leaving a partial shard behind.
        ExtractConfig again = cfg.out(killed).resume(true).build();
        assertThrows(RuntimeException.class, () -> new Extractor(again).log(null)
                .listener(new Extractor.Listener() {
                    @Override
                    public void afterBatch(int shard, long done) {
                        throw new RuntimeException("simulated kill in a shard");
                    }
                }).run(model, "mlp-seed-1234", ExtractFixture.mnist()));
        assertTrue(Files.isDirectory(StoreLayout.shardPartialDir(killed, 2)));

        ExtractSummary resumed = ExtractFixture.run(again, model);
        assertEquals(200 - 128, resumed.computed(), "only the missing shards are computed");
        assertEquals(List.of(), ExtractFixture.differingFiles(whole, killed, ""));
    }

    @Test
    void noisyFeaturesConvergeToCleanOnesAsSigmaGoesToZero(@TempDir Path tmp) {
        float[] sigmas = {1e-4f, 1e-2f, 1.0f};
        Path clean = tmp.resolve("clean"), noisy = tmp.resolve("noisy");
        ExtractFixture.run(ExtractFixture.config(clean).sigmas(sigmas).limit(100).build(), model);
        ExtractFixture.run(ExtractFixture.config(noisy).sigmas(sigmas).limit(100).input(InputMode.NOISY).build(), model);
        FeatureStore c = FeatureStore.open(clean), n = FeatureStore.open(noisy);
        double[] gap = new double[sigmas.length];
        for (int j = 0; j < sigmas.length; j++) {
            gap[j] = meanAbsDiff(c.features("enc.0", j), n.features("enc.0", j));
        }
        assertTrue(gap[0] < gap[1] && gap[1] < gap[2], "gap shrinks with sigma: " + java.util.Arrays.toString(gap));
        assertTrue(gap[0] < 1e-3, "at sigma 1e-4 noisy and clean agree: " + gap[0]);
        assertTrue(gap[2] > 1e-2, "at sigma 1 they differ: " + gap[2]);
    }

    @Test
    void noiseDrawsAverageIndependentDraws(@TempDir Path tmp) {
        Path one = tmp.resolve("one"), four = tmp.resolve("four");
        ExtractFixture.run(ExtractFixture.config(one).limit(64).input(InputMode.NOISY).build(), model);
        ExtractFixture.run(ExtractFixture.config(four).limit(64).input(InputMode.NOISY).noiseDraws(4).build(), model);
        float[][] a = FeatureStore.open(one).features("enc.0", 2), b = FeatureStore.open(four).features("enc.0", 2);
        assertTrue(meanAbsDiff(a, b) > 0, "averaging four draws changes the features");
    }

    @Test
    void resumeWithOtherSettingsIsRefusedNamingTheSetting(@TempDir Path tmp) {
        Path out = tmp.resolve("store");
        ExtractConfig first = ExtractFixture.config(out).build();
        assertThrows(RuntimeException.class, () -> new Extractor(first).log(null).listener(new Extractor.Listener() {
            @Override
            public void afterShard(int shard) {
                throw new RuntimeException("simulated kill");
            }
        }).run(model, "mlp-seed-1234", ExtractFixture.mnist()));
        ExtractConfig other = ExtractFixture.config(out).seed(8).resume(true).build();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(other, model));
        assertTrue(e.getMessage().contains("seed: stored 7, requested 8"), e.getMessage());
        ExtractConfig noResume = ExtractFixture.config(out).build();
        InvalidInputException e2 = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(noResume, model));
        assertTrue(e2.getMessage().contains("use resume to continue it"), e2.getMessage());
    }

    @Test
    void unknownLayerListsTheAvailableOnes(@TempDir Path tmp) {
        ExtractConfig cfg = ExtractFixture.config(tmp.resolve("s")).layers(List.of("mid")).build();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(cfg, model));
        assertTrue(e.getMessage().contains("'mid'") && e.getMessage().contains("enc.0, enc.1, out"), e.getMessage());
    }

    @Test
    void dataShapeTheModelCannotTakeNamesBothShapes(@TempDir Path tmp) {
        NetworkDenoiser wide = new org.diffrep.model.MlpDenoiser(
                org.diffrep.model.MlpDenoiser.Config.defaults(3, 32, 32));
        ExtractConfig cfg = ExtractFixture.config(tmp.resolve("s")).layers(List.of("enc.0")).build();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(cfg, wide));
        assertTrue(e.getMessage().contains("[1, 28, 28]") && e.getMessage().contains("[3, 32, 32]"), e.getMessage());
    }

    @Test
    void unwritableOutputIsAnInputError(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        ExtractConfig cfg = ExtractFixture.config(file.resolve("store")).build();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(cfg, model));
        assertTrue(e.getMessage().contains("a-file"), e.getMessage());
    }

    @Test
    void poolNoneStoresWholeMapsWhoseMeansAreTheMeanFeatures(@TempDir Path tmp) {
        // A tiny UNet (random init, seed 3) for 4-D taps: [N, C, H, W] maps, pooled by the native kernel.
        org.diffrep.model.UNet.Config c = new org.diffrep.model.UNet.Config(new long[]{1, 28, 28}, new int[]{8, 8}, 1,
                new int[0], "sinusoidal", org.diffrep.model.Parametrisation.EDM);
        NetworkDenoiser unet = org.diffrep.model.ModelFiles.build("unet",
                org.diffrep.model.ModelFiles.configJson(new org.diffrep.model.UNet(c)), 3);
        Path none = tmp.resolve("none"), mean = tmp.resolve("mean");
        ExtractConfig.Builder cfg = ExtractFixture.config(none).layers(List.of("mid")).sigmas(0.5f).limit(20).batch(8)
                .forwardRows(8);
        ExtractFixture.run(cfg.pool(Pooling.NONE).build(), unet);
        ExtractFixture.run(cfg.out(mean).pool(Pooling.MEAN).build(), unet);
        FeatureStore n = FeatureStore.open(none), m = FeatureStore.open(mean);
        long[] map = n.mapShape("mid");
        int channels = (int) map[0], positions = (int) (map[1] * map[2]);
        assertEquals((long) channels * positions, n.rowLength("mid"));
        float[][] full = n.features("mid", 0), means = m.features("mid", 0);
        assertEquals(channels * positions, full[0].length);
        for (int i = 0; i < 20; i++) {
            for (int ch = 0; ch < channels; ch++) {
                double sum = 0;
                for (int p = 0; p < positions; p++) {
                    sum += full[i][ch * positions + p];
                }
                assertEquals(sum / positions, means[i][ch], 1e-5, "sample " + i + " channel " + ch);
            }
        }
    }

    /** A denoiser whose one tap is sqrt(mean(x) - threshold): NaN for the images darker than the threshold. */
    private record NanDenoiser(double threshold) implements org.diffrep.model.Denoiser {
        @Override
        public List<String> taps() {
            return List.of("mid");
        }

        @Override
        public long[] inputShape() {
            return new long[]{1, 28, 28};
        }

        @Override
        public Output forward(org.bytedeco.pytorch.Tensor x, org.bytedeco.pytorch.Tensor sigma, java.util.Set<String> taps,
                              boolean wantDenoised) {
            org.bytedeco.pytorch.Tensor m = x.reshape(x.size(0), -1).mean(new long[]{1})
                    .sub(new org.bytedeco.pytorch.Scalar(threshold)).sqrt();
            return new Output(null, java.util.Map.of("mid", m.reshape(x.size(0), 1, 1, 1).expand(x.size(0), 2, 1, 1)
                    .contiguous()));
        }
    }

    @Test
    void nanFeaturesNameTheSamplesLayerAndSigma(@TempDir Path tmp) {
        Dataset data = ExtractFixture.mnist();
        long[] idx = java.util.stream.LongStream.range(0, 64).toArray();
        float[] means;
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            org.bytedeco.pytorch.Tensor x = data.batch(idx).images();
            means = org.diffrep.ops.Tensors.toFloats(x.reshape(64, -1).mean(new long[]{1}));
        }
        float[] sorted = means.clone();
        java.util.Arrays.sort(sorted);
        double threshold = (sorted[9] + (double) sorted[10]) / 2;
        List<Long> dark = new java.util.ArrayList<>();
        for (int i = 0; i < 64; i++) {
            if (means[i] < threshold) {
                dark.add((long) i);
            }
        }
        Path out = tmp.resolve("store");
        ExtractConfig cfg = ExtractFixture.config(out).layers(List.of("mid")).limit(64).batch(64).sigmas(0.5f).build();
        NonFiniteFeatureException e = assertThrows(NonFiniteFeatureException.class,
                () -> new Extractor(cfg).log(null).run(new NanDenoiser(threshold), "nan", data));
        assertEquals(dark, e.samples());
        assertEquals("mid", e.layer());
        assertTrue(e.getMessage().contains("sigma 0.5") && e.getMessage().contains(dark.toString()), e.getMessage());
        assertThrows(InvalidInputException.class, () -> FeatureStore.open(out), "nothing marked complete");
    }

    static double meanAbsDiff(float[][] a, float[][] b) {
        double s = 0;
        long n = 0;
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < a[i].length; k++) {
                s += Math.abs(a[i][k] - b[i][k]);
                n++;
            }
        }
        return s / n;
    }
}
