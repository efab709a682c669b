package org.diffrep.study;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.data.MolrgData;
import org.diffrep.data.MolrgParams;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.diffrep.model.Denoiser;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.noise.Seeds;
import org.diffrep.noise.VpSchedule;
import org.diffrep.ops.DoubleTensors;
import org.diffrep.ops.Kernels;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import org.diffrep.probe.LogisticProbe;
import org.diffrep.probe.ProbeResult;
import org.diffrep.report.LinePlot;
import org.diffrep.report.TextTable;
import org.diffrep.theory.Csnr;
import org.diffrep.theory.MolrgPosterior;
import org.diffrep.train.TensorImageSource;
import org.diffrep.train.TrainConfig;
import org.diffrep.train.Trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The MoLRG experiment of the representation-dynamics research: generate a mixture of low-rank
 * Gaussians, train an MLP denoiser on it (DDPM noise prediction on the VP linear schedule), and at
 * each timestep compare the analytic posterior mean with the trained network: CSNR of the estimate,
 * and a linear probe's accuracy on |E[x0 | x_t]| (analytic) and on the network's second hidden layer.
 * Probes train on the training set and are tested on fresh samples of the same mixture from several
 * seeds. Noise: x_t = x0 + sigma(t) eps (EDM form) with sigma(t) of the VP schedule; the VP network sees
 * s x_t, s = 1/sqrt(1 + sigma^2).
 */
public final class MolrgExperiment {

    /** Tap of the MLP whose activations are probed: the second hidden layer, after its ReLU. */
    public static final String PROBED_TAP = "enc.1";

    /**
     * Settings of a run. Build with {@link #builder}: the defaults (the research's setting) are its
     * field initialisers, also readable as {@link #DEFAULTS}; {@link Builder#build} validates.
     *
     * @param n            ambient dimension (default 50)
     * @param d            class subspace dimension (default 5)
     * @param k            classes (default 3)
     * @param delta        off-subspace scale (default 0.2)
     * @param samples      training samples (default 12000)
     * @param testSamples  fresh test samples per seed (default 3000)
     * @param vpSteps      T of the VP linear schedule, beta 1e-4 to 0.02 (default 500)
     * @param epochs       training epochs over the samples (default 200)
     * @param hidden       MLP hidden width (default 1024)
     * @param batch        training batch (default 128)
     * @param lr           Adam learning rate (default 1e-3)
     * @param seeds        test seeds (default 5)
     * @param timesteps    evaluated timesteps, 0-based indices into the schedule (sigma(t) = sigma after t+1
     *                     steps) (default {@link #DEFAULT_TIMESTEPS})
     * @param seed         seed of everything: data, training, noise, probes (default 0)
     * @param probeL2      probe L2 penalty, NaN for the validation search (default NaN)
     */
    public record Settings(int n, int d, int k, double delta, int samples, int testSamples, int vpSteps, int epochs,
                           int hidden, int batch, double lr, int seeds, int[] timesteps, long seed, double probeL2) {

        public static final int[] DEFAULT_TIMESTEPS = {1, 5, 10, 20, 40, 60, 80, 100, 120, 140, 160, 180, 240, 260, 280};

        /** The research's setting: n=50, d=5, K=3, delta=0.2, 12000 samples, T=500, 200 epochs, width 1024, 5 seeds. */
        public static final Settings DEFAULTS = builder().build();

        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding these settings. */
        public Builder toBuilder() {
            return new Builder().n(n).d(d).k(k).delta(delta).samples(samples).testSamples(testSamples).vpSteps(vpSteps)
                    .epochs(epochs).hidden(hidden).batch(batch).lr(lr).seeds(seeds).timesteps(timesteps).seed(seed)
                    .probeL2(probeL2);
        }

        /**
         * The demo's reduced run (same mixture, fewer samples, a narrower network, 3 test seeds): about a
         * minute on two CPU cores.
         */
        public static Settings demo() {
            return builder().samples(6000).testSamples(2000).epochs(60).hidden(512).batch(256).lr(2e-3).seeds(3).build();
        }

        /** A few-second run for tests and smoke checks. */
        public static Settings quick() {
            return builder().n(20).d(3).samples(600).testSamples(300).epochs(3).hidden(32).lr(2e-3).seeds(2)
                    .timesteps(5, 60, 140, 280).build();
        }

        /** The fields with their defaults; every setter returns the builder. */
        public static final class Builder {
            private int n = 50;
            private int d = 5;
            private int k = 3;
            private double delta = 0.2;
            private int samples = 12000;
            private int testSamples = 3000;
            private int vpSteps = 500;
            private int epochs = 200;
            private int hidden = 1024;
            private int batch = 128;
            private double lr = 1e-3;
            private int seeds = 5;
            private int[] timesteps = DEFAULT_TIMESTEPS;
            private long seed = 0;
            private double probeL2 = Double.NaN;

            public Builder n(int v) { n = v; return this; }
            public Builder d(int v) { d = v; return this; }
            public Builder k(int v) { k = v; return this; }
            public Builder delta(double v) { delta = v; return this; }
            public Builder samples(int v) { samples = v; return this; }
            public Builder testSamples(int v) { testSamples = v; return this; }
            public Builder vpSteps(int v) { vpSteps = v; return this; }
            public Builder epochs(int v) { epochs = v; return this; }
            public Builder hidden(int v) { hidden = v; return this; }
            public Builder batch(int v) { batch = v; return this; }
            public Builder lr(double v) { lr = v; return this; }
            public Builder seeds(int v) { seeds = v; return this; }
            public Builder timesteps(int... v) { timesteps = v.clone(); return this; }
            public Builder seed(long v) { seed = v; return this; }
            public Builder probeL2(double v) { probeL2 = v; return this; }

            /** The settings, checked by {@link Settings#validate}. */
            public Settings build() {
                Settings s = new Settings(n, d, k, delta, samples, testSamples, vpSteps, epochs, hidden, batch, lr, seeds,
                        timesteps.clone(), seed, probeL2);
                s.validate();
                return s;
            }
        }

        /** Checks every field; throws InvalidInputException naming the first bad one. */
        public void validate() {
            new MolrgParams(n, d, k, delta, samples, seed); // checks n, d, K, delta, samples
            require(delta < 1, "delta", "< 1 (the class posterior needs delta in [0, 1))", delta);
            require(testSamples >= k, "testSamples", ">= {k} (" + k + ")", testSamples, "k");
            require((long) testSamples * n <= MolrgParams.MAX_ELEMENTS, "testSamples",
                    "{testSamples}*{n} at most " + MolrgParams.MAX_ELEMENTS + " values (1 GiB of float32)", testSamples, "n");
            require(vpSteps >= 2, "vpSteps", ">= 2", vpSteps);
            require(epochs >= 0, "epochs", ">= 0", epochs);
            require(hidden >= 1, "hidden", ">= 1", hidden);
            require(batch >= 1, "batch", ">= 1", batch);
            require(trainingSteps(epochs, samples, batch) <= Integer.MAX_VALUE, "epochs",
                    "at most " + Integer.MAX_VALUE + " training steps ({epochs}*{samples}/{batch})", epochs, "samples", "batch");
            require(lr > 0, "lr", "> 0", lr);
            require(seeds >= 1, "seeds", ">= 1", seeds);
            require(timesteps.length >= 1, "timesteps", "at least one timestep", Arrays.toString(timesteps));
            for (int t : timesteps) {
                require(t >= 0 && t < vpSteps, "timesteps", "values in [0, {vpSteps}-1] = [0, " + (vpSteps - 1) + "]", t,
                        "vpSteps");
            }
            require(Double.isNaN(probeL2) || probeL2 > 0, "probeL2", "> 0 (or unset for the validation search)", probeL2);
        }

        /** Training steps: as many samples as {@code epochs} passes, ceil(epochs * samples / batch). */
        static long trainingSteps(int epochs, int samples, int batch) {
            return ((long) epochs * samples + batch - 1) / batch;
        }

        /** Throws unless {@code ok}: "field: expected ..., got ..."; {@code expected} may name {@code others} as {name}. */
        private static void require(boolean ok, String field, String expected, Object got, String... others) {
            if (!ok) {
                String[] fields = new String[others.length + 1];
                fields[0] = field;
                System.arraycopy(others, 0, fields, 1, others.length);
                throw InvalidInputException.fields("{" + field + "}: expected " + expected + ", got " + got, fields);
            }
        }
    }

    /** Mean and standard deviation over test seeds (population std; 0 for one seed). */
    public record Stat(double mean, double std, double[] perSeed) {
        static Stat of(double[] v) {
            double m = 0;
            for (double x : v) {
                m += x;
            }
            m /= v.length;
            double s = 0;
            for (double x : v) {
                s += (x - m) * (x - m);
            }
            return new Stat(m, Math.sqrt(s / v.length), v.clone());
        }
    }

    /** All measurements at one timestep. */
    public record Point(int t, double sigma, Stat analyticCsnr, Stat analyticCsnrRatioOfMeans, Stat analyticAccuracy,
                        Stat mlpCsnr, Stat mlpCsnrRatioOfMeans, Stat mlpAccuracy, double analyticProbeL2,
                        double mlpProbeL2) {
    }

    /** Where each curve (mean over seeds) is highest. */
    public record Peak(String curve, int t, double sigma, double value, boolean interior) {
    }

    /** Training outcome. */
    public record Training(long steps, double finalEpochLoss, double seconds) {
    }

    /** Everything the run measured, as written to molrg.json. */
    public record Result(Settings settings, String noise, String schedule, Training training, List<Point> points,
                         List<Peak> peaks, Map<String, String> files, double seconds) {
    }

    private MolrgExperiment() {
    }

    /** Runs the experiment, writing bases.npy, x0.npy, labels.npy, molrg.json and molrg.png/.svg into {@code out}. */
    public static Result run(Settings s, Path out, PrintStream log) {
        // an MLP on vectors: matrix products throughout, so OpenBLAS may use every core
        return Threads.withParallelBlas(() -> runWithThreads(s, out, log));
    }

    private static Result runWithThreads(Settings s, Path out, PrintStream log) {
        s.validate();
        long start = System.nanoTime();
        VpSchedule schedule = VpSchedule.linear(s.vpSteps());
        MolrgData data = MolrgData.generate(new MolrgParams(s.n(), s.d(), s.k(), s.delta(), s.samples(), s.seed()));
        long[] labels = new long[s.samples()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = data.labels()[i];
        }
        float[] x0 = data.x0Flat();
        float[] basesFlat = flatten(data.bases());
        Npy.write(out.resolve("bases.npy"), basesFlat, s.k(), s.n(), s.d());
        Npy.write(out.resolve("x0.npy"), x0, s.samples(), s.n());
        Npy.write(out.resolve("labels.npy"), labels, s.samples());
        log.printf("molrg: n=%d d=%d K=%d delta=%s, %d training samples, %d test samples x %d seeds; %s%n",
                s.n(), s.d(), s.k(), s.delta(), s.samples(), s.testSamples(), s.seeds(), schedule);

        double[] sigmas = new double[s.timesteps().length];
        for (int i = 0; i < sigmas.length; i++) {
            sigmas[i] = schedule.sigmaAtStep(s.timesteps()[i]);
        }
        List<Point> points = new ArrayList<>();
        Training training;
        try (PointerScope scope = new PointerScope()) {
            Tensor bases = DoubleTensors.fromDoubles(toDoubles(data.bases()), s.k(), s.n(), s.d());
            MolrgPosterior posterior = new MolrgPosterior(bases, s.delta());
            Tensor x0Train = Tensors.fromFloats(x0, s.samples(), s.n());

            torch.manual_seed(Seeds.derive(s.seed(), 30)); // the network's initial weights
            MlpDenoiser mlp = new MlpDenoiser(new MlpDenoiser.Config(new long[]{s.n()}, 2, s.hidden(), "relu",
                    NoiseEmbedding.SINUSOIDAL, 32, Parametrisation.VP));
            training = train(mlp, x0Train, schedule, s, log);

            // fresh test sets of the same mixture, one per seed
            List<long[]> testLabels = new ArrayList<>();
            List<Tensor> noisyTests = new ArrayList<>();
            for (int j = 0; j < s.seeds(); j++) {
                MolrgData.Samples test = MolrgData.draw(data.bases(), s.delta(), s.testSamples(),
                        Seeds.derive(s.seed(), 100 + j));
                testLabels.add(test.labelsLong());
                noisyTests.add(noisy(test.x0Flat(), s.n(), sigmas, Seeds.derive(s.seed(), 200 + j)));
            }
            Tensor noisyTrain = noisy(x0, s.n(), sigmas, Seeds.derive(s.seed(), 10));
            LogisticProbe.Settings probeSettings = LogisticProbe.Settings.builder().l2(s.probeL2())
                    .seed(Seeds.derive(s.seed(), 20)).build();
            for (int i = 0; i < sigmas.length; i++) {
                try (PointerScope step = new PointerScope()) {
                    points.add(measure(i, s, sigmas[i], posterior, mlp, labels, noisyTrain.select(0, i),
                            testLabels, noisyTests, probeSettings));
                    Point p = points.get(points.size() - 1);
                    log.printf("  t=%3d sigma=%.4f  analytic: CSNR %.3f acc %.3f  mlp: CSNR %.3f acc %.3f%n", p.t(),
                            p.sigma(), p.analyticCsnr().mean(), p.analyticAccuracy().mean(), p.mlpCsnr().mean(),
                            p.mlpAccuracy().mean());
                }
            }
        }
        List<Peak> peaks = peaks(points);
        Map<String, String> files = new LinkedHashMap<>();
        files.put("bases", "bases.npy (float32 [K, n, d])");
        files.put("x0", "x0.npy (float32 [N, n])");
        files.put("labels", "labels.npy (int64 [N])");
        files.put("plot", "molrg.png, molrg.svg");
        String noise = "x_t = x0 + sigma(t) * eps (EDM form); sigma(t) = sqrt((1 - alphabar_t) / alphabar_t) of the VP "
                + "linear schedule, t a 0-based step index; the VP network sees x_t / sqrt(1 + sigma^2)";
        Result result = new Result(s, noise, schedule.toString(), training, points, peaks, files,
                (System.nanoTime() - start) / 1e9);
        plot(out.resolve("molrg"), points);
        Json.write(out.resolve("molrg.json"), result);
        return result;
    }

    /** The results as a table: one row per timestep. */
    public static TextTable table(Result r) {
        TextTable table = new TextTable("t", "sigma", "CSNR analytic", "(ratio of means)", "acc analytic",
                "CSNR mlp", "(ratio of means)", "acc mlp");
        for (Point p : r.points()) {
            table.row(p.t(), TextTable.num(p.sigma(), 4), pm(p.analyticCsnr(), 3), TextTable.num(p.analyticCsnrRatioOfMeans().mean(), 3),
                    pm(p.analyticAccuracy(), 3), pm(p.mlpCsnr(), 3), TextTable.num(p.mlpCsnrRatioOfMeans().mean(), 3),
                    pm(p.mlpAccuracy(), 3));
        }
        return table;
    }

    /** A short summary for people: where each curve peaks, and where the files are. */
    public static List<String> summary(Result r, Path out) {
        List<String> lines = new ArrayList<>();
        for (Peak p : r.peaks()) {
            lines.add(String.format(java.util.Locale.ROOT, "%-32s peaks at t=%d (sigma %.3f): %.3f%s", p.curve(), p.t(),
                    p.sigma(), p.value(), p.interior() ? "" : "  [at the edge of the grid]"));
        }
        lines.add(String.format(java.util.Locale.ROOT, "trained %d steps in %.1f s; whole run %.1f s", r.training().steps(),
                r.training().seconds(), r.seconds()));
        lines.add("files: " + out.toAbsolutePath().normalize() + "/{molrg.json, molrg.png, molrg.svg, bases.npy, x0.npy, labels.npy}");
        return lines;
    }

    private static String pm(Stat s, int digits) {
        return TextTable.num(s.mean(), digits) + " +- " + TextTable.num(s.std(), digits);
    }

    private static Point measure(int i, Settings s, double sigma, MolrgPosterior posterior, MlpDenoiser mlp,
                                 long[] labels, Tensor xtTrain, List<long[]> testLabels, List<Tensor> noisyTests,
                                 LogisticProbe.Settings probeSettings) {
        int seeds = testLabels.size();
        double[] aCsnr = new double[seeds], aRom = new double[seeds], aAcc = new double[seeds];
        double[] mCsnr = new double[seeds], mRom = new double[seeds], mAcc = new double[seeds];
        LogisticProbe analyticProbe = LogisticProbe.fit(posterior.mean(xtTrain, sigma).abs(), labels, s.k(), probeSettings);
        Tensor[] trainNet = network(mlp, xtTrain, sigma);
        LogisticProbe mlpProbe = LogisticProbe.fit(trainNet[1], labels, s.k(), probeSettings);
        for (int j = 0; j < seeds; j++) {
            try (PointerScope scope = new PointerScope()) {
                long[] y = testLabels.get(j);
                Tensor xt = noisyTests.get(j).select(0, i);
                Tensor mean = posterior.mean(xt, sigma);
                Csnr.Result c = Csnr.of(mean, posterior.bases(), y);
                aCsnr[j] = c.meanOfRatios();
                aRom[j] = c.ratioOfMeans();
                aAcc[j] = analyticProbe.evaluate(mean.abs(), y).accuracy();
                Tensor[] net = network(mlp, xt, sigma);
                Csnr.Result cm = Csnr.of(net[0], posterior.bases(), y);
                mCsnr[j] = cm.meanOfRatios();
                mRom[j] = cm.ratioOfMeans();
                ProbeResult pr = mlpProbe.evaluate(net[1], y);
                mAcc[j] = pr.accuracy();
            }
        }
        return new Point(s.timesteps()[i], sigma, Stat.of(aCsnr), Stat.of(aRom), Stat.of(aAcc), Stat.of(mCsnr),
                Stat.of(mRom), Stat.of(mAcc), analyticProbe.l2(), mlpProbe.l2());
    }

    /** The network's denoised estimate [N, n] and its probed activations [N, hidden], in batches, without autograd. */
    private static Tensor[] network(MlpDenoiser mlp, Tensor xt, double sigma) {
        long n = xt.size(0);
        int batch = 4096;
        TensorVector denoised = new TensorVector();
        TensorVector feats = new TensorVector();
        try (NoGradGuard guard = new NoGradGuard()) {
            for (long from = 0; from < n; from += batch) {
                long len = Math.min(batch, n - from);
                Tensor sig = torch.full(new long[]{len}, new Scalar((float) sigma), Tensors.options(torch.ScalarType.Float));
                Denoiser.Output o = mlp.forward(xt.narrow(0, from, len), sig, Set.of(PROBED_TAP), true);
                denoised.push_back(o.denoised());
                feats.push_back(o.taps().get(PROBED_TAP));
            }
            return new Tensor[]{torch.cat(denoised, 0), torch.cat(feats, 0)};
        }
    }

    /**
     * DDPM training with train.Trainer's loop: {@code ceil(epochs * samples / batch)} steps (as many samples
     * as {@code epochs} passes), each on a batch drawn with replacement, a timestep per sample uniform in
     * [0, T-1] of the experiment's schedule, and the noise-prediction loss ||eps_hat - eps||^2 =
     * ||D - x0||^2 / sigma^2 (the VP loss); Adam at a constant rate, no EMA.
     */
    private static Training train(MlpDenoiser mlp, Tensor x0, VpSchedule schedule, Settings s, PrintStream log) {
        long start = System.nanoTime();
        int n = (int) x0.size(0);
        int stepsPerEpoch = (n + s.batch() - 1) / s.batch();
        int total = (int) Settings.trainingSteps(s.epochs(), n, s.batch()); // validate() keeps it within int
        TrainConfig cfg = TrainConfig.builder().steps(total).batch(s.batch()).lr(s.lr()).warmupSteps(0).emaDecay(0)
                .seed(Seeds.derive(s.seed(), 31)).loss(TrainConfig.LossMode.VP).checkpointEvery(0).build();
        long reportEvery = Math.max(1, total / 10);
        double[] lastEpoch = new double[stepsPerEpoch];
        Trainer.Result r;
        try {
            r = new Trainer(mlp, cfg).vpSchedule(schedule).run(new TensorImageSource(x0), null, false, p -> {
                lastEpoch[(int) ((p.step() - 1) % stepsPerEpoch)] = p.loss();
                if (p.step() % reportEvery == 0 || p.step() == p.totalSteps()) {
                    log.printf("  training: epoch %.1f/%d  loss %.4f  %.0f samples/s%n", (double) p.step() * s.batch() / n,
                            s.epochs(), p.loss(), p.imagesPerSecond());
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e); // no checkpoint: nothing is read or written
        }
        double loss = Double.NaN;
        if (r.steps() > 0) {
            int count = (int) Math.min(stepsPerEpoch, r.steps());
            loss = 0;
            for (int i = 0; i < count; i++) {
                loss += lastEpoch[i];
            }
            loss /= count;
        }
        return new Training(r.steps(), loss, (System.nanoTime() - start) / 1e9);
    }

    static List<Peak> peaks(List<Point> points) {
        List<Peak> peaks = new ArrayList<>();
        peaks.add(peak("analytic CSNR (mean of ratios)", points, p -> p.analyticCsnr().mean()));
        peaks.add(peak("analytic CSNR (ratio of means)", points, p -> p.analyticCsnrRatioOfMeans().mean()));
        peaks.add(peak("analytic probe accuracy", points, p -> p.analyticAccuracy().mean()));
        peaks.add(peak("MLP CSNR (mean of ratios)", points, p -> p.mlpCsnr().mean()));
        peaks.add(peak("MLP CSNR (ratio of means)", points, p -> p.mlpCsnrRatioOfMeans().mean()));
        peaks.add(peak("MLP probe accuracy", points, p -> p.mlpAccuracy().mean()));
        return peaks;
    }

    private static Peak peak(String name, List<Point> points, java.util.function.ToDoubleFunction<Point> f) {
        int best = 0;
        for (int i = 1; i < points.size(); i++) {
            if (f.applyAsDouble(points.get(i)) > f.applyAsDouble(points.get(best))) {
                best = i;
            }
        }
        Point p = points.get(best);
        return new Peak(name, p.t(), p.sigma(), f.applyAsDouble(p), best > 0 && best < points.size() - 1);
    }

    private static void plot(Path base, List<Point> points) {
        double[] t = points.stream().mapToDouble(Point::t).toArray();
        LinePlot.Panel acc = new LinePlot.Panel("MoLRG: linear-probe accuracy (mean +- std over test seeds)", "timestep t",
                "test accuracy", false, false, List.of(
                new LinePlot.Series("analytic |E[x0|x_t]|", t, mean(points, Point::analyticAccuracy), std(points, Point::analyticAccuracy)),
                new LinePlot.Series("MLP layer 2", t, mean(points, Point::mlpAccuracy), std(points, Point::mlpAccuracy))));
        LinePlot.Panel csnr = new LinePlot.Panel("MoLRG: CSNR of the posterior estimate", "timestep t", "CSNR (log)",
                false, true, List.of(
                LinePlot.Series.of("analytic, mean of ratios", t, mean(points, Point::analyticCsnr)),
                LinePlot.Series.of("analytic, ratio of means", t, mean(points, Point::analyticCsnrRatioOfMeans)),
                LinePlot.Series.of("MLP, mean of ratios", t, mean(points, Point::mlpCsnr)),
                LinePlot.Series.of("MLP, ratio of means", t, mean(points, Point::mlpCsnrRatioOfMeans))));
        LinePlot.write(base, List.of(acc, csnr));
    }

    private static double[] mean(List<Point> points, java.util.function.Function<Point, Stat> f) {
        return points.stream().mapToDouble(p -> f.apply(p).mean()).toArray();
    }

    private static double[] std(List<Point> points, java.util.function.Function<Point, Stat> f) {
        return points.stream().mapToDouble(p -> f.apply(p).std()).toArray();
    }

    /**
     * x0 + sigma_j eps for every level j, [S, N, n], with the project's counter-based noise
     * (ops.Kernels.noiseInject: eps keyed by seed, sample index, level index and element).
     */
    private static Tensor noisy(float[] x0, int n, double[] sigmas, long seed) {
        Tensor x = Tensors.fromFloats(x0, x0.length / n, n);
        return Kernels.noiseInject(x, toFloats(sigmas), null, null, seed, false);
    }

    private static float[] flatten(double[][][] b) {
        double[] d = toDoubles(b);
        return toFloats(d);
    }

    private static double[] toDoubles(double[][][] b) {
        int k = b.length, n = b[0].length, d = b[0][0].length;
        double[] out = new double[k * n * d];
        for (int c = 0; c < k; c++) {
            for (int r = 0; r < n; r++) {
                System.arraycopy(b[c][r], 0, out, (c * n + r) * d, d);
            }
        }
        return out;
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
