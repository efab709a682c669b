package org.diffrep.study;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.analysis.MemorisationMeasure;
import org.diffrep.analysis.OutputFiles;
import org.diffrep.data.Dataset;
import org.diffrep.data.InMemoryDataset;
import org.diffrep.data.Split;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.InputMode;
import org.diffrep.io.Hashes;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.UNet;
import org.diffrep.ops.Tensors;
import org.diffrep.probe.ProbeKind;
import org.diffrep.probe.ProbeResult;
import org.diffrep.reconstruct.SamplerConfig;
import org.diffrep.reconstruct.StochasticSampler;
import org.diffrep.report.LinePlot;
import org.diffrep.report.Montage;
import org.diffrep.report.TextTable;
import org.diffrep.train.DatasetImages;
import org.diffrep.train.DenoisingEval;
import org.diffrep.train.TrainConfig;
import org.diffrep.train.Trainer;
import org.diffrep.train.TrainingProgress;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The generalisation diagnostic of Li et al. (probe dynamics are unimodal in sigma while a diffusion model
 * generalises and turn monotone as it memorises): the same network, trained by the same recipe on nested
 * subsets of a dataset's training split (e.g. 64, 1000, all images), each model's clean-input linear probe
 * curve over the sigma grid on one fixed probe set drawn from the test split (never trained on), side by side,
 * with a memorisation measure per model ({@link MemorisationMeasure}: its samples' distance to the nearest
 * training image against the nearest held-out image of an equal-size set, and the share of samples that copy
 * one training image) and the denoising MSE of its training images against held-out ones.
 *
 * <p>Trained models, feature stores and samples are kept in the output directory under a content key (data,
 * subset, architecture, recipe), so a rerun reuses whatever is already there and a changed setting retrains
 * only what it changes.
 */
public final class MemorisationStudy {

    /**
     * Settings of a study. Build with {@link #builder}: the defaults are its field initialisers, also readable as
     * {@link #DEFAULTS}; the record's constructor validates.
     *
     * @param subsets       training-subset sizes, increasing, nested (each contains the smaller ones); 0 stands
     *                      for the whole training split and may only come last (default 64, 1000, all)
     * @param channels      UNet channels per level; the rest of the UNet is {@link UNet.Config#defaults} (default:
     *                      the UNet's default channels)
     * @param train         the training recipe, the same for every subset (default {@link TrainConfig#DEFAULTS})
     * @param sigmas        noise levels of the probe curves (clean input) (default: the extract default grid)
     * @param layer         the tap probed (default mid)
     * @param probeImages   test-split images in the probe set, split 80/20 for the probes (default 2000)
     * @param samples       samples drawn from each model for the memorisation measure (default 64)
     * @param sampler       the stochastic sampler (default {@link SamplerConfig#DEFAULTS})
     * @param mseSigma      noise level of the training-vs-held-out denoising MSE (default 0.5)
     * @param mseImages     images in each side of that comparison, at most (default 500)
     * @param seed          seed of the split, the subsets, the probe set and the network's initialisation (default 0)
     * @param probe         probe settings (default {@link ProbeStudy.Settings#DEFAULTS})
     */
    public record Settings(int[] subsets, int[] channels, TrainConfig train, float[] sigmas, String layer,
                           int probeImages, int samples, SamplerConfig sampler, double mseSigma, int mseImages,
                           long seed, ProbeStudy.Settings probe) {
        public Settings {
            if (subsets.length == 0) {
                throw InvalidInputException.field("subsets", "needs at least one size");
            }
            for (int i = 0; i < subsets.length; i++) {
                boolean all = subsets[i] == 0;
                if (subsets[i] < 0 || subsets[i] == 1 || all && i != subsets.length - 1
                        || i > 0 && !all && subsets[i] <= subsets[i - 1]) {
                    throw InvalidInputException.field("subsets", "sizes must be at least 2 and increasing, 'all' "
                            + "last (the subsets are nested), got " + describe(subsets));
                }
            }
            if (sigmas.length == 0) {
                throw InvalidInputException.field("sigmas", "needs at least one noise level");
            }
            if (probeImages < 20) {
                throw InvalidInputException.field("probeImages", "must be >= 20 (split 80/20 for the probes), got "
                        + probeImages);
            }
            if (samples < 1) {
                throw InvalidInputException.field("samples", "must be >= 1, got " + samples);
            }
            if (!(mseSigma > 0) || Double.isInfinite(mseSigma) || mseImages < 1) {
                throw InvalidInputException.fields("{mseSigma} must be > 0 and {mseImages} >= 1, got " + mseSigma
                        + " and " + mseImages, "mseSigma", "mseImages");
            }
        }

        /** Every field at its default. */
        public static final Settings DEFAULTS = builder().build();

        public static Builder builder() {
            return new Builder();
        }

        /** The fields with their defaults; every setter returns the builder; the record's constructor validates. */
        public static final class Builder {
            private int[] subsets = {64, 1000, 0};
            private int[] channels = UNet.Config.defaults(1, 28, 28).channels();
            private TrainConfig train = TrainConfig.DEFAULTS;
            private float[] sigmas = ExtractConfig.DEFAULTS.sigmas();
            private String layer = "mid";
            private int probeImages = 2000;
            private int samples = 64;
            private SamplerConfig sampler = SamplerConfig.DEFAULTS;
            private double mseSigma = 0.5;
            private int mseImages = 500;
            private long seed = 0;
            private ProbeStudy.Settings probe = ProbeStudy.Settings.DEFAULTS;

            public Builder subsets(int... v) { subsets = v.clone(); return this; }
            public Builder channels(int... v) { channels = v.clone(); return this; }
            public Builder train(TrainConfig v) { train = v; return this; }
            public Builder sigmas(float... v) { sigmas = v.clone(); return this; }
            public Builder layer(String v) { layer = v; return this; }
            public Builder probeImages(int v) { probeImages = v; return this; }
            public Builder samples(int v) { samples = v; return this; }
            public Builder sampler(SamplerConfig v) { sampler = v; return this; }
            public Builder mseSigma(double v) { mseSigma = v; return this; }
            public Builder mseImages(int v) { mseImages = v; return this; }
            public Builder seed(long v) { seed = v; return this; }
            public Builder probe(ProbeStudy.Settings v) { probe = v; return this; }

            public Settings build() {
                return new Settings(subsets.clone(), channels.clone(), train, sigmas.clone(), layer, probeImages,
                        samples, sampler, mseSigma, mseImages, seed, probe);
            }
        }
    }

    /** "64, 1000, all". */
    public static String describe(int[] subsets) {
        return String.join(", ", Arrays.stream(subsets).mapToObj(n -> n == 0 ? "all" : Integer.toString(n)).toList());
    }

    /**
     * One model: its training subset, how it was trained, its probe curve, its denoising MSE on training and
     * held-out images, and the memorisation measure of its samples.
     *
     * @param heldOutReference held-out images the ratio d_train / d_heldout uses (as many as training images,
     *                         or all the held-out images there are when the subset is larger)
     */
    public record ModelResult(int trainImages, String modelFile, boolean cached, double trainSeconds, double epochs,
                              ProbeStudy.Report probe, int peakIndex, boolean peakInside,
                              double trainMse, double heldOutMse, int mseImages, int samples, int heldOutReference,
                              double medianTrainOverHeldOut, double memorisedFraction, double medianNearestRatio,
                              double meanTrainDistance, double meanHeldOutDistance) {

        public double[] accuracies() {
            return probe.curves().get(0).accuracies();
        }
    }

    /** Everything the study measured; written as memorisation.json. */
    public record Report(String data, int trainPool, int testPool, int probeImages, String layer, float[] sigmas,
                         Settings settings, ProbeResult pixelBaseline, List<ModelResult> models) {
    }

    private MemorisationStudy() {
    }

    /** Runs the study on {@code data} into {@code out}; progress lines go to {@code log}. */
    public static Report run(Dataset data, Settings s, Path out, PrintStream log) {
        Split split = Split.choose(data, null, s.seed());
        int[] pool = shuffled(split.trainIndices(), s.seed());
        int[] test = shuffled(split.testIndices(), s.seed() + 1);
        int[] sizes = Arrays.stream(s.subsets()).map(n -> n == 0 ? pool.length : n).toArray();
        if (sizes[sizes.length - 1] > pool.length) {
            throw InvalidInputException.field("subsets", describe(s.subsets()) + ": the training split of "
                    + data.source() + " has " + pool.length + " images");
        }
        if (s.probeImages() > test.length) {
            throw InvalidInputException.field("probeImages", s.probeImages() + ": the test split of " + data.source()
                    + " has " + test.length + " images");
        }
        long[] shape = {data.imageShape()[0], data.imageShape()[1], data.imageShape()[2]};
        UNet.Config arch = UNet.Config.defaults(shape).toBuilder().channels(s.channels()).build();
        OutputFiles.directory(out);
        Dataset probeSet = probeSet(data, Arrays.copyOf(test, s.probeImages()));
        ProbeStudy.Settings probeSettings = s.probe().toBuilder().pixelBaseline(false).build();
        List<ModelResult> results = new ArrayList<>();
        Path firstStore = null;
        for (int n : sizes) {
            int[] subset = Arrays.copyOf(pool, n);
            String key = key(data, subset, arch, s.train(), s.seed());
            String tag = "n" + n + "-" + key.substring(0, 12);
            log.printf("memorisation: %d training images (%s)%n", n, tag);
            Path modelFile = out.resolve("models").resolve(tag + ".safetensors");
            boolean cached = Files.isRegularFile(modelFile);
            double seconds = 0;
            NetworkDenoiser net;
            if (cached) {
                log.printf("  model: read back %s%n", modelFile);
                net = ModelFiles.loadNetwork(modelFile);
            } else {
                long t0 = System.nanoTime();
                net = train(data, subset, arch, s, modelFile, log);
                seconds = (System.nanoTime() - t0) / 1e9;
            }
            net.train(false);
            Path store = out.resolve("features").resolve(tag);
            firstStore = firstStore == null ? store : firstStore;
            ProbeStudy.Report probe = probe(net, key, probeSet, s, probeSettings, store, log);
            int m = Math.min(n, test.length);
            int mse = Math.min(m, s.mseImages());
            DatasetImages trainEval = new DatasetImages(data, Arrays.copyOf(subset, mse));
            DatasetImages heldEval = new DatasetImages(data, Arrays.copyOf(test, mse));
            // each side is its own Wiener reference: only the model's MSE is read
            double trainMse = DenoisingEval.evaluate(net, trainEval, trainEval, s.mseSigma(), s.seed() + 2, 256).modelMse();
            double heldMse = DenoisingEval.evaluate(net, heldEval, heldEval, s.mseSigma(), s.seed() + 2, 256).modelMse();
            float[] samples = samples(net, s, out.resolve("samples").resolve(tag + ".npy"), log);
            MemorisationMeasure mm;
            int d = data.sampleSize();
            try (PointerScope scope = new PointerScope()) {
                Tensor sampleRows = Tensors.fromFloats(samples, s.samples(), d);
                Tensor trainRows = data.batch(subset).images().reshape(n, d).contiguous();
                // the ratio's training reference: as many training images as held-out ones (all of them when the
                // subset is no larger than the test split), so neither side is nearer only for being larger
                Tensor matched = m == n ? trainRows : trainRows.narrow(0, 0, m);
                Tensor heldRows = data.batch(Arrays.copyOf(test, m)).images().reshape(m, d).contiguous();
                mm = MemorisationMeasure.of(sampleRows, trainRows, matched, heldRows);
                montage(out.resolve("samples").resolve(tag + ".png"), data, samples, subset, mm);
            }
            double[] acc = probe.curves().get(0).accuracies();
            int peak = argmax(acc);
            results.add(new ModelResult(n, out.relativize(modelFile).toString(), cached, seconds,
                    (double) s.train().steps() * s.train().batch() / n, probe, peak, peak > 0 && peak < acc.length - 1,
                    trainMse, heldMse, mse, s.samples(), m, mm.medianRatio(), mm.memorisedFraction(),
                    mm.medianNearestRatio(), mean(mm.trainDistance()), mean(mm.heldOutDistance())));
            log.printf("  %d images: best probe %.4f at sigma %.4g; denoising MSE train %.5f, held-out %.5f; "
                            + "samples: median d_train/d_heldout %.3f, memorised %.1f%%%n", n, acc[peak],
                    s.sigmas()[peak], trainMse, heldMse, mm.medianRatio(), 100 * mm.memorisedFraction());
        }
        ProbeResult pixels = null;
        if (s.probe().pixelBaseline()) {
            // the same rows and split as every model's probes (all stores hold the probe set in one order)
            pixels = PixelBaseline.fit(FeatureStore.open(firstStore), probeSet,
                    s.probe().toBuilder().kind(ProbeKind.LINEAR).build());
        }
        Report r = new Report(data.source(), pool.length, test.length, s.probeImages(), s.layer(), s.sigmas(), s,
                pixels, results);
        write(out, r);
        return r;
    }

    private static NetworkDenoiser train(Dataset data, int[] subset, UNet.Config arch, Settings s, Path modelFile,
                                         PrintStream log) {
        try {
            Files.createDirectories(modelFile.getParent());
            NetworkDenoiser net = ModelFiles.build(arch, s.seed());
            Trainer trainer = new Trainer(net, s.train());
            Path ckpt = modelFile.resolveSibling(modelFile.getFileName() + ".ckpt");
            log.printf("  training %d steps of %d on %d images (%.0f epochs)%n", s.train().steps(), s.train().batch(),
                    subset.length, (double) s.train().steps() * s.train().batch() / subset.length);
            Trainer.Result r;
            try (TrainingProgress progress = new TrainingProgress(0, s.train().steps(), log)) {
                // resumes an interrupted run of the same key from its checkpoint
                r = trainer.run(new DatasetImages(data, subset), ckpt, true, progress);
            }
            ModelFiles.save(net, modelFile, trainer.provenance());
            Files.deleteIfExists(ckpt);
            log.printf("  trained in %.1f s, recent loss %.4f -> %s%n", r.seconds(), r.recentLoss(), modelFile);
            return net;
        } catch (IOException e) {
            throw new UncheckedIOException(modelFile + ": " + e.getMessage(), e);
        }
    }

    private static ProbeStudy.Report probe(NetworkDenoiser net, String key, Dataset probeSet, Settings s,
                                           ProbeStudy.Settings probeSettings, Path store, PrintStream log) {
        ExtractConfig cfg = ExtractConfig.builder().data(probeSet.source()).layers(List.of(s.layer()))
                .sigmas(s.sigmas()).input(InputMode.CLEAN).seed(s.seed()).out(store).resume(true).build();
        new Extractor(cfg).log(log).run(net, "memorisation:" + key, probeSet);
        return ProbeStudy.run(FeatureStore.open(store), List.of(s.layer()), probeSettings, null);
    }

    private static float[] samples(NetworkDenoiser net, Settings s, Path file, PrintStream log) {
        if (Files.isRegularFile(file)) {
            Npy.Array a = Npy.read(file);
            if (a.shape()[0] == s.samples()) {
                log.printf("  samples: read back %s%n", file);
                return a.toFloats();
            }
        }
        long t0 = System.nanoTime();
        StochasticSampler.Samples out = new StochasticSampler(net, s.sampler()).sample(s.samples());
        float[] flat = out.flat();
        long[] in = net.inputShape();
        OutputFiles.directory(file.getParent());
        Npy.write(file, flat, s.samples(), in[0], in[1], in[2]);
        log.printf("  %d samples in %.1f s (steps %d-%d)%n", s.samples(), (System.nanoTime() - t0) / 1e9,
                Arrays.stream(out.steps()).min().orElse(0), Arrays.stream(out.steps()).max().orElse(0));
        return flat;
    }

    /** Up to 16 samples (top row) above their nearest training images (bottom row). */
    private static void montage(Path png, Dataset data, float[] samples, int[] subset, MemorisationMeasure mm) {
        int d = data.sampleSize(), k = Math.min(16, mm.trainDistance().length);
        List<float[]> top = new ArrayList<>(), bottom = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            top.add(Arrays.copyOfRange(samples, i * d, (i + 1) * d));
            try (PointerScope scope = new PointerScope()) {
                bottom.add(Tensors.toFloats(data.batch(new int[]{subset[mm.nearestTrain()[i]]}).images()));
            }
        }
        Montage.write(png, List.of(top, bottom), data.imageShape(), 2);
    }

    /** The probe set as its own in-memory dataset: its split is a stratified 80/20 of these images alone. */
    private static Dataset probeSet(Dataset data, int[] idx) {
        try (PointerScope scope = new PointerScope()) {
            float[] values = Tensors.toFloats(data.batch(idx).images());
            int[] labels = Arrays.stream(idx).map(data::label).toArray();
            return InMemoryDataset.ofFloats("probe set: " + idx.length + " test-split images of " + data.source(),
                    data.imageShape(), values, labels, data.classNames());
        }
    }

    private static String key(Dataset data, int[] subset, UNet.Config arch, TrainConfig train, long seed) {
        ByteBuffer b = ByteBuffer.allocate(4 * subset.length);
        b.asIntBuffer().put(subset);
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("data", data.source());
        k.put("size", data.size());
        k.put("subset", Hashes.hex(Hashes.sha256(b.array())));
        k.put("arch", arch);
        k.put("train", train);
        k.put("seed", seed);
        try {
            return Hashes.hex(Hashes.sha256(Json.COMPACT.writeValueAsBytes(k)));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int[] shuffled(int[] v, long seed) {
        int[] p = v.clone();
        Random r = new Random(seed ^ 0x6d656d6fL);
        for (int i = p.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static int argmax(double[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[b]) {
                b = i;
            }
        }
        return b;
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

    /** memorisation.json and memorisation.png/.svg (probe curves side by side; measure against subset size). */
    static void write(Path out, Report r) {
        Json.write(out.resolve("memorisation.json"), r);
        List<LinePlot.Series> curves = new ArrayList<>();
        double[] x = new double[r.sigmas().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.sigmas()[i];
        }
        for (ModelResult m : r.models()) {
            curves.add(LinePlot.Series.of(m.trainImages() + " training images", x, m.accuracies()));
        }
        if (r.pixelBaseline() != null) {
            double[] flat = new double[x.length];
            Arrays.fill(flat, r.pixelBaseline().accuracy());
            curves.add(LinePlot.Series.of("raw pixels (linear)", x, flat));
        }
        double[] n = r.models().stream().mapToDouble(ModelResult::trainImages).toArray();
        List<LinePlot.Series> measure = List.of(
                LinePlot.Series.of("median d_train / d_heldout", n,
                        r.models().stream().mapToDouble(ModelResult::medianTrainOverHeldOut).toArray()),
                LinePlot.Series.of("share of samples copying a training image (d1/d2 < 1/3)", n,
                        r.models().stream().mapToDouble(ModelResult::memorisedFraction).toArray()),
                LinePlot.Series.of("denoising MSE train / held-out", n,
                        r.models().stream().mapToDouble(m -> m.trainMse() / m.heldOutMse()).toArray()));
        LinePlot.write(out.resolve("memorisation"), List.of(
                new LinePlot.Panel("linear probe on " + r.layer() + " (clean input), " + r.probeImages()
                        + " held-out probe images", "sigma", "test accuracy", true, false, curves),
                new LinePlot.Panel("memorisation against training-set size", "training images", "ratio / share", true,
                        false, measure)));
    }

    /** The tables on stdout: accuracy per sigma and model, then the memorisation measures. */
    public static void print(PrintStream out, Report r) {
        List<String> header = new ArrayList<>(List.of("sigma"));
        for (ModelResult m : r.models()) {
            header.add("n=" + m.trainImages());
        }
        TextTable acc = new TextTable(header.toArray(String[]::new));
        for (int j = 0; j < r.sigmas().length; j++) {
            List<Object> row = new ArrayList<>(List.of(TextTable.num(r.sigmas()[j], 4)));
            for (ModelResult m : r.models()) {
                double a = m.accuracies()[j];
                row.add(String.format("%.4f%s", a, j == m.peakIndex() ? "*" : ""));
            }
            acc.row(row.toArray());
        }
        out.printf("linear-probe accuracy on %s (clean input) of %d held-out probe images (%d train / %d test; "
                + "* best sigma)%n", r.layer(), r.probeImages(), r.models().get(0).probe().trainCount(),
                r.models().get(0).probe().testCount());
        acc.print(out);
        if (r.pixelBaseline() != null) {
            double[] ci = r.pixelBaseline().accuracyInterval95();
            out.printf("raw pixels, linear probe, same split: %.4f [%.4f, %.4f]%n", r.pixelBaseline().accuracy(),
                    ci[0], ci[1]);
        }
        TextTable t = new TextTable("train images", "epochs", "best probe [95%]", "peak", "MSE train / held-out",
                "median d_train/d_heldout", "copies (d1/d2<1/3)", "median d1/d2", "held-out ref");
        for (ModelResult m : r.models()) {
            ProbeResult best = m.probe().curves().get(0).points().get(m.peakIndex()).result();
            double[] ci = best.accuracyInterval95();
            t.row(m.trainImages(), String.format("%.0f", m.epochs()),
                    String.format("%.4f [%.3f, %.3f]", best.accuracy(), ci[0], ci[1]),
                    String.format("sigma %s (%s)", TextTable.num(r.sigmas()[m.peakIndex()], 4),
                            m.peakInside() ? "inside" : "edge"),
                    String.format("%.5f / %.5f", m.trainMse(), m.heldOutMse()),
                    String.format("%.3f", m.medianTrainOverHeldOut()),
                    String.format("%.1f%% of %d", 100 * m.memorisedFraction(), m.samples()),
                    String.format("%.3f", m.medianNearestRatio()), m.heldOutReference());
        }
        t.print(out);
    }
}
