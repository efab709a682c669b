package org.diffrep.study;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.LabelNoise;
import org.diffrep.data.Split;
import org.diffrep.extract.FeatureStore;
import org.diffrep.ops.Tensors;
import org.diffrep.probe.LogisticProbe;
import org.diffrep.probe.LogitArrays;
import org.diffrep.probe.NeuralProbe;
import org.diffrep.probe.Probe;
import org.diffrep.probe.ProbeKind;
import org.diffrep.probe.ProbeResult;
import org.diffrep.probe.ProbeScoring;
import org.diffrep.probe.SoftVoting;
import org.diffrep.theory.Csnr;
import org.diffrep.theory.FeatureBases;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Probes over a feature store's noise levels: for each layer and label-noise level, one probe per
 * sigma trained on the store's training split (with that share of training labels flipped) and
 * scored on its test split (true labels), then the soft-voting ensemble around the best sigma.
 * The best sigma is the one with the highest test accuracy, as in the research; the ensemble is
 * compared with that same best single probe.
 */
public final class ProbeStudy {

    /**
     * Settings of a study. Build with {@link #builder}: the defaults are its field initialisers, also
     * readable as {@link #DEFAULTS}.
     *
     * @param kind          linear (logistic regression), bn-linear or mlp (default linear)
     * @param labelNoise    fractions of training labels flipped, each a separate curve (default 0 only)
     * @param ensembleWidth neighbours on each side of the best sigma in the ensemble (default 2)
     * @param logistic      settings of the linear probe (default {@link LogisticProbe.Settings#DEFAULTS})
     * @param neural        settings of the bn-linear and mlp probes (default {@link NeuralProbe.Settings#DEFAULTS})
     * @param seed          label-noise seed (default 0)
     * @param pixelBaseline also fit a linear probe on the raw input pixels of the store's rows, same split, clean
     *                      labels ({@link PixelBaseline}; default true)
     * @param csnr          also measure each layer's class-specific SNR per sigma ({@link LayerCsnr}; default true)
     */
    public record Settings(ProbeKind kind, double[] labelNoise, int ensembleWidth, LogisticProbe.Settings logistic,
                           NeuralProbe.Settings neural, long seed, boolean pixelBaseline, boolean csnr) {
        public Settings {
            for (double f : labelNoise) {
                if (!(f >= 0 && f < 1)) {
                    throw InvalidInputException.field("labelNoise", ": fractions must be in [0, 1), got " + f);
                }
            }
            if (ensembleWidth < 0) {
                throw InvalidInputException.field("ensembleWidth", "must be >= 0, got " + ensembleWidth);
            }
        }

        /** Every field at its default. */
        public static final Settings DEFAULTS = builder().build();

        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding these settings. */
        public Builder toBuilder() {
            return new Builder().kind(kind).labelNoise(labelNoise).ensembleWidth(ensembleWidth).logistic(logistic)
                    .neural(neural).seed(seed).pixelBaseline(pixelBaseline).csnr(csnr);
        }

        /** The fields with their defaults; every setter returns the builder; the record's constructor validates. */
        public static final class Builder {
            private ProbeKind kind = ProbeKind.LINEAR;
            private double[] labelNoise = {0};
            private int ensembleWidth = 2;
            private LogisticProbe.Settings logistic = LogisticProbe.Settings.DEFAULTS;
            private NeuralProbe.Settings neural = NeuralProbe.Settings.DEFAULTS;
            private long seed = 0;
            private boolean pixelBaseline = true;
            private boolean csnr = true;

            public Builder kind(ProbeKind v) { kind = v; return this; }
            public Builder labelNoise(double... v) { labelNoise = v.clone(); return this; }
            public Builder ensembleWidth(int v) { ensembleWidth = v; return this; }
            public Builder logistic(LogisticProbe.Settings v) { logistic = v; return this; }
            public Builder neural(NeuralProbe.Settings v) { neural = v; return this; }
            public Builder seed(long v) { seed = v; return this; }
            public Builder pixelBaseline(boolean v) { pixelBaseline = v; return this; }
            public Builder csnr(boolean v) { csnr = v; return this; }

            public Settings build() {
                return new Settings(kind, labelNoise.clone(), ensembleWidth, logistic, neural, seed, pixelBaseline, csnr);
            }
        }
    }

    /** One probe at one sigma. */
    public record Point(int sigmaIndex, double sigma, ProbeResult result) {
    }

    /** The ensemble around the best sigma, and what it adds over the best single probe. */
    public record Ensemble(int bestSigmaIndex, double bestSigma, double bestAccuracy, int[] members,
                           double[] memberSigmas, ProbeResult result, double gain) {
    }

    /** Accuracy against sigma for one layer and label-noise level. */
    public record Curve(String layer, double labelNoise, int flippedLabels, List<Point> points, Ensemble ensemble) {
        public double[] sigmas() {
            return points.stream().mapToDouble(Point::sigma).toArray();
        }

        public double[] accuracies() {
            return points.stream().mapToDouble(p -> p.result().accuracy()).toArray();
        }
    }

    /**
     * The class-specific SNR of one layer's features at each sigma (Li et al.'s Figure 6 for real features): rows
     * L2-normalised and centred, class bases of rank {@code rank} from the train rows and their true labels
     * ({@link FeatureBases}), the CSNR measured on the test rows ({@link Csnr}); NaN where a layer is wider than
     * {@link #MAX_CSNR_WIDTH} (a flattened map).
     */
    public record LayerCsnr(String layer, int rank, double[] ratioOfMeans, double[] meanOfRatios) {
    }

    /** Features wider than this are not decomposed for the CSNR (one SVD per class and sigma). */
    static final long MAX_CSNR_WIDTH = 4096;

    /**
     * Everything a study measured, written to JSON as is; {@code pixelBaseline} is null when not asked for
     * ({@link Settings#pixelBaseline}), {@code csnr} empty when not asked for ({@link Settings#csnr}).
     */
    public record Report(String store, String probe, int numClasses, int trainCount, int testCount, int ensembleWidth,
                         List<Curve> curves, PixelBaseline.Result pixelBaseline, List<LayerCsnr> csnr) {
    }

    private ProbeStudy() {
    }

    /** Runs the study on {@code layers} of a store (all layers when empty); progress lines go to {@code log}. */
    public static Report run(FeatureStore store, List<String> layers, Settings s, PrintStream log) {
        List<String> chosen = layers.isEmpty() ? store.layers() : layers;
        for (String l : chosen) {
            if (!store.layers().contains(l)) {
                throw new InvalidInputException(store.dir() + ": no layer '" + l + "' (the store has " + store.layers() + ")");
            }
        }
        long[] labels = store.labels();
        boolean[] train = store.trainMask();
        int k = 0;
        for (long y : labels) {
            k = (int) Math.max(k, y + 1);
        }
        int[] trainRows = rows(train, true), testRows = rows(train, false);
        if (trainRows.length < 2 || testRows.length < 1) {
            throw new InvalidInputException(store.dir() + ": split.npy has " + trainRows.length + " training and "
                    + testRows.length + " test rows; probes need both (extract with split all)");
        }
        long[] testLabels = pick(labels, testRows);
        byte[] mask = new byte[train.length];
        for (int i = 0; i < train.length; i++) {
            mask[i] = (byte) (train[i] ? 1 : 0);
        }
        Split split = new Split(mask);
        int[] intLabels = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            intLabels[i] = (int) labels[i];
        }
        float[] sigmas = store.sigmas();
        List<Curve> curves = new ArrayList<>();
        for (String layer : chosen) {
            for (double noise : s.labelNoise()) {
                LabelNoise.Noisy noisy = LabelNoise.flip(intLabels, k, split, noise, s.seed());
                long[] trainLabels = new long[trainRows.length];
                for (int i = 0; i < trainRows.length; i++) {
                    trainLabels[i] = noisy.labels()[trainRows[i]];
                }
                List<Point> points = new ArrayList<>();
                List<double[]> logits = new ArrayList<>();
                for (int j = 0; j < sigmas.length; j++) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor all = store.featuresTensor(layer, j);
                        Tensor xTrain = all.index_select(0, Tensors.fromLongs(toLongs(trainRows)));
                        Tensor xTest = all.index_select(0, Tensors.fromLongs(toLongs(testRows)));
                        Probe probe = fit(s, xTrain, trainLabels, k);
                        double[] z = LogitArrays.of(probe.logits(xTest));
                        ProbeResult r = probe.evaluate(xTest, testLabels);
                        logits.add(z);
                        points.add(new Point(j, sigmas[j], r));
                        if (log != null) {
                            log.printf("probe %s %s label-noise %.2f sigma %.4g: accuracy %.4f (%.1f s)%n", s.kind().id(),
                                    layer, noise, sigmas[j], r.accuracy(), r.fitSeconds());
                        }
                    }
                }
                curves.add(new Curve(layer, noise, noisy.flippedCount(), points,
                        ensemble(points, logits, testLabels, k, s.ensembleWidth())));
            }
        }
        PixelBaseline.Result pixels = null;
        if (s.pixelBaseline()) {
            pixels = PixelBaseline.of(store, s.toBuilder().kind(ProbeKind.LINEAR).build());
            if (log != null) {
                log.println(pixels.result() == null ? "probe: no raw-pixel baseline: " + pixels.skipped()
                        : String.format("probe linear on raw pixels: accuracy %.4f (%.1f s)", pixels.result().accuracy(),
                        pixels.result().fitSeconds()));
            }
        }
        List<LayerCsnr> csnr = new ArrayList<>();
        if (s.csnr()) {
            for (String layer : chosen) {
                csnr.add(layerCsnr(store, layer, trainRows, testRows, pick(labels, trainRows), testLabels, k));
            }
        }
        return new Report(store.dir().toString(), s.kind().id(), k, trainRows.length, testRows.length,
                s.ensembleWidth(), curves, pixels, csnr);
    }

    private static LayerCsnr layerCsnr(FeatureStore store, String layer, int[] trainRows, int[] testRows,
                                       long[] trainLabels, long[] testLabels, int k) {
        float[] sigmas = store.sigmas();
        double[] rom = new double[sigmas.length], mor = new double[sigmas.length];
        for (int j = 0; j < sigmas.length; j++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor all = store.featuresTensor(layer, j);
                if (all.size(1) > MAX_CSNR_WIDTH) {
                    rom[j] = mor[j] = Double.NaN;
                    continue;
                }
                Tensor prepared = FeatureBases.prepare(all);
                List<Tensor> bases = FeatureBases.fit(prepared.index_select(0, Tensors.fromLongs(toLongs(trainRows))),
                        trainLabels, k, FeatureBases.DEFAULT_RANK);
                Csnr.Result r = Csnr.of(prepared.index_select(0, Tensors.fromLongs(toLongs(testRows))), bases, testLabels);
                rom[j] = r.ratioOfMeans();
                mor[j] = r.meanOfRatios();
            }
        }
        return new LayerCsnr(layer, FeatureBases.DEFAULT_RANK, rom, mor);
    }

    /** Fits the probe of the chosen kind. */
    public static Probe fit(Settings s, Tensor x, long[] labels, int k) {
        return s.kind() == ProbeKind.LINEAR
                ? LogisticProbe.fit(x, labels, k, s.logistic())
                : NeuralProbe.fit(x, labels, k, s.kind(), s.neural());
    }

    private static Ensemble ensemble(List<Point> points, List<double[]> logits, long[] testLabels, int k, int width) {
        double[] acc = points.stream().mapToDouble(p -> p.result().accuracy()).toArray();
        int best = SoftVoting.best(acc);
        int[] members = SoftVoting.window(acc.length, best, width);
        List<double[]> votes = new ArrayList<>();
        double[] memberSigmas = new double[members.length];
        for (int i = 0; i < members.length; i++) {
            votes.add(logits.get(members[i]));
            memberSigmas[i] = points.get(members[i]).sigma();
        }
        ProbeResult bestResult = points.get(best).result();
        ProbeResult r = ProbeScoring.score(SoftVoting.average(votes), testLabels, k,
                new ProbeScoring.FitInfo(bestResult.l2(), bestResult.l2Searched(), 0, true, 0));
        return new Ensemble(best, points.get(best).sigma(), acc[best], members, memberSigmas, r, r.accuracy() - acc[best]);
    }

    private static int[] rows(boolean[] mask, boolean want) {
        int count = 0;
        for (boolean b : mask) {
            if (b == want) {
                count++;
            }
        }
        int[] out = new int[count];
        for (int i = 0, j = 0; i < mask.length; i++) {
            if (mask[i] == want) {
                out[j++] = i;
            }
        }
        return out;
    }

    private static long[] pick(long[] a, int[] idx) {
        long[] out = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = a[idx[i]];
        }
        return out;
    }

    private static long[] toLongs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
