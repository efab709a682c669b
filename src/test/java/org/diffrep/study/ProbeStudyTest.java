package org.diffrep.study;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Batch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.diffrep.probe.LogisticProbe;
import org.diffrep.probe.NeuralProbe;
import org.diffrep.probe.ProbeKind;
import org.diffrep.probe.ProbeResult;
import org.diffrep.probe.SoftVoting;
import org.diffrep.study.ProbeStudy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Probes over noise levels on a real feature store: MNIST digits through a seeded random MLP
 * denoiser (random features of real digits are linearly informative, which is what a probe
 * study needs; training a model would only make the test slow).
 */
class ProbeStudyTest {

    static final String MNIST = "builtin:mnist";

    @TempDir
    static Path tmp;

    static FeatureStore store;

    @BeforeAll
    static void extract() {
        NetworkDenoiser model = ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(new MlpDenoiser.Config(
                new long[]{1, 28, 28}, 2, 128, "relu", "sinusoidal", 16, Parametrisation.EDM))), 99);
        ExtractConfig cfg = ExtractConfig.builder().data(MNIST).out(tmp.resolve("store"))
                .layers(List.of("enc.0", "enc.1")).sigmas(0.05f, 0.3f, 1.0f, 3.0f).limit(700).batch(64)
                .forwardRows(64).shardSize(256).seed(3).trainFrac(0.7).build();
        new Extractor(cfg).log(null).run(model, "mlp-seed-99", DataSpec.open(MNIST));
        store = FeatureStore.open(tmp.resolve("store"));
    }

    @Test
    void linearProbesPerSigmaWithEnsembleAndLabelNoise() {
        ProbeStudy.Settings s = ProbeStudy.Settings.builder().kind(ProbeKind.LINEAR).labelNoise(0, 0.4).ensembleWidth(1)
                .logistic(LogisticProbe.Settings.builder().l2(1e-2).build()).seed(5).build();
        ProbeStudy.Report r = ProbeStudy.run(store, List.of("enc.0"), s, null);
        assertEquals(10, r.numClasses());
        assertEquals(700, r.trainCount() + r.testCount());
        assertEquals(2, r.curves().size());
        for (ProbeStudy.Curve c : r.curves()) {
            assertEquals(4, c.points().size());
            for (ProbeStudy.Point p : c.points()) {
                assertTrue(p.result().accuracy() > 0.3, "random features of digits are far above chance (0.1): " + p);
            }
            ProbeStudy.Ensemble e = c.ensemble();
            double[] acc = c.accuracies();
            assertEquals(SoftVoting.best(acc), e.bestSigmaIndex());
            assertArrayEquals(SoftVoting.window(4, e.bestSigmaIndex(), 1), e.members());
            assertEquals(e.result().accuracy() - acc[e.bestSigmaIndex()], e.gain(), 1e-12);
        }
        assertEquals(0, r.curves().get(0).flippedLabels());
        assertEquals(Math.round(0.4 * r.trainCount()), r.curves().get(1).flippedLabels());
        // Flipping 40% of the training labels costs accuracy at the best sigma.
        assertTrue(r.curves().get(1).ensemble().bestAccuracy() <= r.curves().get(0).ensemble().bestAccuracy() + 0.02);
    }

    @Test
    void ensembleOfIdenticalProbesEqualsEachOfThem() {
        double[] a = {1, 2, 0.5, -1, 3, 0};
        assertArrayEquals(a, SoftVoting.average(List.of(a, a.clone(), a.clone())), 0);
        assertArrayEquals(new int[]{0, 1, 2}, SoftVoting.window(10, 0, 2));
        assertArrayEquals(new int[]{7, 8, 9}, SoftVoting.window(10, 9, 2));
        assertArrayEquals(new int[]{3, 4, 5, 6, 7}, SoftVoting.window(10, 5, 2));
        assertEquals(1, SoftVoting.best(new double[]{0.2, 0.9, 0.9, 0.1}), "first maximum");
    }

    @Test
    void bnLinearAndMlpProbesLearnMnist() {
        Dataset d = DataSpec.open(MNIST);
        try (PointerScope scope = new PointerScope()) {
            long[] trainIdx = range(0, 1500), testIdx = range(1500, 2000);
            Batch train = d.batch(trainIdx), test = d.batch(testIdx);
            Tensor xTrain = train.images().reshape(1500, 784), xTest = test.images().reshape(500, 784);
            long[] yTrain = labels(d, trainIdx), yTest = labels(d, testIdx);
            for (ProbeKind kind : new ProbeKind[]{ProbeKind.BN_LINEAR, ProbeKind.MLP}) {
                NeuralProbe p = NeuralProbe.fit(xTrain, yTrain, 10, kind, NeuralProbe.Settings.builder().epochs(15).build());
                ProbeResult r = p.evaluate(xTest, yTest);
                assertTrue(r.accuracy() > 0.82, kind + " accuracy on MNIST pixels " + r.accuracy());
                assertEquals(500, Arrays.stream(r.confusion()).flatMapToLong(Arrays::stream).sum());
                // Same seed, same probe.
                NeuralProbe again = NeuralProbe.fit(xTrain, yTrain, 10, kind, NeuralProbe.Settings.builder().epochs(15).build());
                assertEquals(r.accuracy(), again.evaluate(xTest, yTest).accuracy());
            }
        }
    }

    @Test
    void unknownLayerAndBadSettingsAreInputErrors() {
        ProbeStudy.Settings s = ProbeStudy.Settings.DEFAULTS;
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ProbeStudy.run(store, List.of("mid"), s, null));
        assertTrue(e.getMessage().contains("enc.0"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> ProbeStudy.Settings.builder().labelNoise(1.0).build());
        assertThrows(InvalidInputException.class, () -> ProbeKind.parse("svm"));
    }

    private static long[] range(int from, int to) {
        long[] r = new long[to - from];
        Arrays.setAll(r, i -> from + i);
        return r;
    }

    private static long[] labels(Dataset d, long[] idx) {
        long[] y = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            y[i] = d.label((int) idx[i]);
        }
        return y;
    }

    @Test
    void theRawPixelBaselineUsesTheSameRowsSplitAndLabels() {
        ProbeStudy.Settings s = ProbeStudy.Settings.builder().logistic(LogisticProbe.Settings.builder().l2(1e-2).build())
                .build();
        ProbeStudy.Report r = ProbeStudy.run(store, List.of("enc.0"), s, null);
        PixelBaseline.Result px = r.pixelBaseline();
        assertEquals(MNIST, px.data());
        assertEquals("linear", px.probe());
        assertEquals(null, px.skipped());
        assertEquals(r.testCount(), px.result().count(), "scored on the study's test rows");
        assertTrue(px.result().accuracy() > 0.75, "a linear probe on 490 real digits: " + px.result().accuracy());
        // the same probe on the same pixels, fitted directly
        ProbeResult direct = PixelBaseline.fit(store, DataSpec.open(MNIST), s);
        assertEquals(direct.accuracy(), px.result().accuracy(), 1e-12);
        assertEquals(null, ProbeStudy.run(store, List.of("enc.0"), s.toBuilder().pixelBaseline(false).build(), null)
                .pixelBaseline());
        StringBuilder printed = new StringBuilder();
        ProbeStudyReport.print(new java.io.PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                printed.append((char) b);
            }
        }), "t", r);
        assertTrue(printed.toString().contains("raw pixels, linear probe, same split: "), printed.toString());
        assertTrue(printed.toString().contains("CSNR enc.0"), printed.toString());
    }

    @Test
    void csnrOfEachLayerPerSigmaFromTrainBasesOnTestRows() {
        ProbeStudy.Settings s = ProbeStudy.Settings.builder().pixelBaseline(false)
                .logistic(LogisticProbe.Settings.builder().l2(1e-2).build()).build();
        ProbeStudy.Report r = ProbeStudy.run(store, List.of("enc.0", "enc.1"), s, null);
        assertEquals(2, r.csnr().size());
        for (ProbeStudy.LayerCsnr c : r.csnr()) {
            assertEquals(4, c.ratioOfMeans().length);
            for (int j = 0; j < 4; j++) {
                // own-class energy over the other nine classes' on real digits: finite, positive, and above the
                // 5/C-per-class share a class basis would catch of random directions
                assertTrue(Double.isFinite(c.ratioOfMeans()[j]) && c.ratioOfMeans()[j] > 0.2, c.layer() + " " + j
                        + ": " + c.ratioOfMeans()[j]);
                assertTrue(c.meanOfRatios()[j] >= c.ratioOfMeans()[j] * 0.2);
            }
        }
        // the same measurement by hand for one layer and sigma
        try (PointerScope scope = new PointerScope()) {
            boolean[] train = store.trainMask();
            long[] labels = store.labels();
            long[] tr = java.util.stream.IntStream.range(0, train.length).filter(i -> train[i]).asLongStream().toArray();
            long[] te = java.util.stream.IntStream.range(0, train.length).filter(i -> !train[i]).asLongStream().toArray();
            Tensor prepared = org.diffrep.theory.FeatureBases.prepare(store.featuresTensor("enc.1", 2));
            var bases = org.diffrep.theory.FeatureBases.fit(prepared.index_select(0, org.diffrep.ops.Tensors.fromLongs(tr)),
                    Arrays.stream(tr).map(i -> labels[(int) i]).toArray(), 10, 5);
            double expected = org.diffrep.theory.Csnr.of(prepared.index_select(0, org.diffrep.ops.Tensors.fromLongs(te)),
                    bases, Arrays.stream(te).map(i -> labels[(int) i]).toArray()).ratioOfMeans();
            assertEquals(expected, r.csnr().get(1).ratioOfMeans()[2], 1e-12);
        }
        assertTrue(ProbeStudy.run(store, List.of("enc.0"), s.toBuilder().csnr(false).build(), null).csnr().isEmpty());
    }
}
