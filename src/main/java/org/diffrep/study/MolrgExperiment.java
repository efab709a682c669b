package org.diffrep.study;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.data.MolrgData;
import org.diffrep.data.MolrgNoiseSpace;
import org.diffrep.data.MolrgParams;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.diffrep.model.Denoiser;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.noise.Seeds;
import org.diffrep.noise.VpSchedule;
import org.diffrep.ops.DoubleTensors;
import org.diffrep.ops.Kernels;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import org.diffrep.probe.LogisticProbe;
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

    /** What the denoiser is fed at each timestep: x0 itself (the research's protocol), x_t, or both. */
    public enum Input {
        CLEAN, NOISY, BOTH;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** Parses {@code clean}, {@code noisy} or {@code both}; {@code field} names the option in the error. */
        public static Input parse(String text, String field) {
            for (Input i : values()) {
                if (i.id().equalsIgnoreCase(text == null ? "" : text.trim())) {
                    return i;
                }
            }
            throw InvalidInputException.fields("{" + field + "}: expected clean, noisy or both, got '" + text + "'", field);
        }

        boolean clean() {
            return this != NOISY;
        }

        boolean noisy() {
            return this != CLEAN;
        }
    }

    /**
     * Settings of a run. Build with {@link #builder}: the defaults (the research's setting) are its
     * field initialisers, also readable as {@link #DEFAULTS}; {@link Builder#build} validates.
     *
     * @param n                 ambient dimension (default 50)
     * @param d                 class subspace dimension (default 5)
     * @param k                 classes (default 3)
     * @param delta             off-subspace scale (default 0.2)
     * @param noiseSpace        where the delta-scaled component lives: the other classes' span or the whole
     *                          complement of U_k (default others)
     * @param samples           training samples (default 12000)
     * @param testSamples       fresh test samples per seed (default 3000)
     * @param validationSamples held-out samples on which the stopping rule measures the MSE gap (default 1000)
     * @param vpSteps           T of the VP linear schedule, beta 1e-4 to 0.02 (default 500)
     * @param epochs            the step cap, in passes over the samples (default 200)
     * @param hidden            MLP hidden width (default 1024)
     * @param batch             training batch (default 128)
     * @param lr                Adam learning rate at the start (default 1e-3)
     * @param tolerance         stop when the held-out MSE gap to the optimum, averaged over the grid, is at most
     *                          this (relative: mean over sigma of MSE_mlp/MSE_opt - 1) (default 0.02)
     * @param evalEvery         steps between two measurements of the gap (default 500)
     * @param patience          measurements without a 1% improvement before the rate halves; after
     *                          {@link #LR_HALVINGS} halvings, before the run stops (default 4)
     * @param seeds             seeds: each trains its own MLP and tests on its own fresh test set (default 5)
     * @param input             what the denoiser is fed when CSNR and probes are measured (default clean)
     * @param timesteps         evaluated timesteps, 0-based indices into the schedule (default {@link #DEFAULT_TIMESTEPS})
     * @param seed              seed of everything: data, training, noise, probes (default 0)
     * @param probeL2           probe L2 penalty, NaN for the validation search (default NaN)
     * @param probeSamples      training samples the probes fit on, the first of the training set (0 = all) (default 0)
     * @param models            null to train; else where to load trained networks {@code mlp_seed<j>.safetensors}
     *                          from: a directory, or {@code classpath:/path/} for resources (default null)
     */
    public record Settings(int n, int d, int k, double delta, MolrgNoiseSpace noiseSpace, int samples, int testSamples,
                           int validationSamples, int vpSteps, int epochs, int hidden, int batch, double lr,
                           double tolerance, int evalEvery, int patience, int seeds, Input input, int[] timesteps,
                           long seed, double probeL2, int probeSamples, String models) {

        public static final int[] DEFAULT_TIMESTEPS = {1, 5, 10, 20, 40, 60, 80, 100, 120, 140, 160, 180, 240, 260, 280};

        /** How often the stopping rule halves the learning rate on a plateau before it stops. */
        public static final int LR_HALVINGS = 3;

        /** The research's setting: n=50, d=5, K=3, delta=0.2, 12000 samples, T=500, at most 200 epochs, width 1024, 5 seeds. */
        public static final Settings DEFAULTS = builder().build();

        /** The resources of the networks the demo ships (remade by {@link #DEMO_MODELS_COMMAND}). */
        public static final String DEMO_MODELS = "classpath:/org/diffrep/molrg/";

        /** The command that trained the shipped demo networks (then copy OUT/mlp_seed*.safetensors to the resources). */
        public static final String DEMO_MODELS_COMMAND = "diffrep --threads 1 molrg --samples 6000 --test-samples 2000"
                + " --hidden 256 --batch 1024 --lr 4e-3 --epochs 2500 --eval-every 250 --patience 3 --tolerance 0.1"
                + " --seeds 3 --l2 1e-3 --probe-samples 3000 --out OUT";

        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding these settings. */
        public Builder toBuilder() {
            return new Builder().n(n).d(d).k(k).delta(delta).noiseSpace(noiseSpace).samples(samples).testSamples(testSamples)
                    .validationSamples(validationSamples).vpSteps(vpSteps).epochs(epochs).hidden(hidden).batch(batch).lr(lr)
                    .tolerance(tolerance).evalEvery(evalEvery).patience(patience).seeds(seeds).input(input)
                    .timesteps(timesteps).seed(seed).probeL2(probeL2).probeSamples(probeSamples).models(models);
        }

        /**
         * The settings the demo networks were trained with ({@link #DEMO_MODELS_COMMAND}): the default mixture,
         * 6000 samples, width 256, 3 seeds, probes with a fixed penalty on 3000 samples, clean input.
         */
        public static Settings demoTraining() {
            return builder().samples(6000).testSamples(2000).hidden(256).batch(1024).lr(4e-3).epochs(2500).evalEvery(250)
                    .patience(3).tolerance(0.1).seeds(3).probeL2(1e-3).probeSamples(3000).build();
        }

        /** The demo: {@link #demoTraining()}'s networks loaded from the jar ({@link #DEMO_MODELS}), measured, not trained. */
        public static Settings demo() {
            return demoTraining().toBuilder().models(DEMO_MODELS).build();
        }

        /** A few-second run for tests and smoke checks. */
        public static Settings quick() {
            return builder().n(20).d(3).samples(600).testSamples(300).validationSamples(200).epochs(3).hidden(32).lr(2e-3)
                    .evalEvery(10).seeds(2).timesteps(5, 60, 140, 280).build();
        }

        /** The fields with their defaults; every setter returns the builder. */
        public static final class Builder {
            private int n = 50;
            private int d = 5;
            private int k = 3;
            private double delta = 0.2;
            private MolrgNoiseSpace noiseSpace = MolrgNoiseSpace.OTHERS;
            private int samples = 12000;
            private int testSamples = 3000;
            private int validationSamples = 1000;
            private int vpSteps = 500;
            private int epochs = 200;
            private int hidden = 1024;
            private int batch = 128;
            private double lr = 1e-3;
            private double tolerance = 0.02;
            private int evalEvery = 500;
            private int patience = 4;
            private int seeds = 5;
            private Input input = Input.CLEAN;
            private int[] timesteps = DEFAULT_TIMESTEPS;
            private long seed = 0;
            private double probeL2 = Double.NaN;
            private int probeSamples = 0;
            private String models = null;

            public Builder n(int v) { n = v; return this; }
            public Builder d(int v) { d = v; return this; }
            public Builder k(int v) { k = v; return this; }
            public Builder delta(double v) { delta = v; return this; }
            public Builder noiseSpace(MolrgNoiseSpace v) { noiseSpace = v; return this; }
            public Builder samples(int v) { samples = v; return this; }
            public Builder testSamples(int v) { testSamples = v; return this; }
            public Builder validationSamples(int v) { validationSamples = v; return this; }
            public Builder vpSteps(int v) { vpSteps = v; return this; }
            public Builder epochs(int v) { epochs = v; return this; }
            public Builder hidden(int v) { hidden = v; return this; }
            public Builder batch(int v) { batch = v; return this; }
            public Builder lr(double v) { lr = v; return this; }
            public Builder tolerance(double v) { tolerance = v; return this; }
            public Builder evalEvery(int v) { evalEvery = v; return this; }
            public Builder patience(int v) { patience = v; return this; }
            public Builder seeds(int v) { seeds = v; return this; }
            public Builder input(Input v) { input = v; return this; }
            public Builder timesteps(int... v) { timesteps = v.clone(); return this; }
            public Builder seed(long v) { seed = v; return this; }
            public Builder probeL2(double v) { probeL2 = v; return this; }
            public Builder probeSamples(int v) { probeSamples = v; return this; }
            public Builder models(String v) { models = v; return this; }

            /** The settings, checked by {@link Settings#validate}. */
            public Settings build() {
                Settings s = new Settings(n, d, k, delta, noiseSpace, samples, testSamples, validationSamples, vpSteps,
                        epochs, hidden, batch, lr, tolerance, evalEvery, patience, seeds, input, timesteps.clone(), seed,
                        probeL2, probeSamples, models);
                s.validate();
                return s;
            }
        }

        /** Checks every field; throws InvalidInputException naming the first bad one. */
        public void validate() {
            new MolrgParams(n, d, k, delta, samples, seed); // checks n, d, K, delta, samples
            require(delta < 1, "delta", "< 1 (the class posterior needs delta in [0, 1))", delta);
            require(noiseSpace != null, "noiseSpace", "others or complement", noiseSpace);
            require(input != null, "input", "clean, noisy or both", input);
            require(testSamples >= k, "testSamples", ">= {k} (" + k + ")", testSamples, "k");
            require((long) testSamples * n <= MolrgParams.MAX_ELEMENTS, "testSamples",
                    "{testSamples}*{n} at most " + MolrgParams.MAX_ELEMENTS + " values (1 GiB of float32)", testSamples, "n");
            require(validationSamples >= 1, "validationSamples", ">= 1", validationSamples);
            require((long) validationSamples * n * timesteps.length <= MolrgParams.MAX_ELEMENTS, "validationSamples",
                    "{validationSamples}*{n}*timesteps at most " + MolrgParams.MAX_ELEMENTS + " values", validationSamples, "n");
            require(vpSteps >= 2, "vpSteps", ">= 2", vpSteps);
            require(epochs >= 0, "epochs", ">= 0", epochs);
            require(hidden >= 1, "hidden", ">= 1", hidden);
            require(batch >= 1, "batch", ">= 1", batch);
            require(trainingSteps(epochs, samples, batch) <= Integer.MAX_VALUE, "epochs",
                    "at most " + Integer.MAX_VALUE + " training steps ({epochs}*{samples}/{batch})", epochs, "samples", "batch");
            require(lr > 0, "lr", "> 0", lr);
            require(tolerance >= 0 && Double.isFinite(tolerance), "tolerance", "a finite number >= 0", tolerance);
            require(evalEvery >= 1, "evalEvery", ">= 1", evalEvery);
            require(patience >= 1, "patience", ">= 1", patience);
            require(seeds >= 1, "seeds", ">= 1", seeds);
            require(timesteps.length >= 1, "timesteps", "at least one timestep", Arrays.toString(timesteps));
            for (int t : timesteps) {
                require(t >= 0 && t < vpSteps, "timesteps", "values in [0, {vpSteps}-1] = [0, " + (vpSteps - 1) + "]", t,
                        "vpSteps");
            }
            require(Double.isNaN(probeL2) || probeL2 > 0, "probeL2", "> 0 (or unset for the validation search)", probeL2);
            require(probeSamples == 0 || probeSamples >= k && probeSamples <= samples, "probeSamples",
                    "0 (all) or in [{k}, {samples}]", probeSamples, "k", "samples");
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

    /** Mean and standard deviation over seeds (population std; 0 for one seed). */
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

    /**
     * CSNR and probe accuracy at one timestep for one kind of input (clean x0 or noisy x_t), each a
     * {@link Stat} over seeds. CSNR is the ratio of means (the headline); {@code ...MeanOfRatios} beside it.
     *
     * @param csnrOptimum    CSNR of the posterior mean E[x0 | input] (the optimal denoiser)
     * @param csnrLinear     CSNR of the best linear (Wiener) denoiser's output
     * @param csnrMlp        CSNR of the trained MLP's denoised output
     * @param accOptimum     a linear probe on |E[x0 | input]|
     * @param accMlp         a linear probe on the MLP's second hidden layer
     * @param accBayes       the Bayes classifier argmax_k w_k(input): the ceiling of any classifier of the input
     */
    public record Measures(Stat csnrOptimum, Stat csnrOptimumMeanOfRatios, Stat csnrLinear, Stat csnrLinearMeanOfRatios,
                           Stat csnrMlp, Stat csnrMlpMeanOfRatios, Stat accOptimum, Stat accMlp, Stat accBayes,
                           double optimumProbeL2, double[] mlpProbeL2) {
    }

    /**
     * All measurements at one timestep: {@code clean} and {@code noisy} (null when not measured, see
     * {@link Input}); per-coordinate denoising MSE on noisy input, E||D(x_t) - x0||^2 / n, of the MLP, the
     * optimum and the linear denoiser, and the MLP's relative gap MSE_mlp/MSE_opt - 1.
     */
    public record Point(int t, double sigma, Measures clean, Measures noisy, Stat mseMlp, Stat mseOptimum,
                        Stat mseLinear, Stat mseGap) {
    }

    /**
     * Where each curve (mean over seeds) is highest; {@code interior}: not at either end of the grid;
     * {@code unimodal}: it rises (not strictly) to that point and falls after it; {@code flat}: it is
     * constant to 1e-9 (then where it "peaks" says nothing).
     */
    public record Peak(String curve, int t, double sigma, double value, boolean interior, boolean unimodal,
                       boolean flat) {
    }

    /** One gap measurement of the stopping rule: the step, the held-out gap, the rate's share then. */
    public record GapCheck(long step, double gap, double lrScale) {
    }

    /**
     * How one seed's network was trained (or loaded): steps, why it stopped ({@code tolerance},
     * {@code plateau}, {@code cap}, or {@code loaded}), its held-out gap at the end, the gap trace.
     */
    public record Training(int seedIndex, long steps, String stopReason, double finalGap, double finalEpochLoss,
                           double seconds, List<GapCheck> checks, String source) {
    }

    /** Everything the run measured, as written to molrg.json. */
    public record Result(Settings settings, String noise, String schedule, List<Training> training, List<Point> points,
                         List<Peak> peaks, Map<String, String> files, double seconds) {
    }

    private MolrgExperiment() {
    }

    /**
     * Runs the experiment, writing bases.npy, x0.npy, labels.npy, mlp_seed{j}.safetensors, molrg.json and
     * molrg.png/.svg into {@code out}.
     */
    public static Result run(Settings s, Path out, PrintStream log) {
        // an MLP on vectors: matrix products throughout, so OpenBLAS may use every core
        return Threads.withParallelBlas(() -> runWithThreads(s, out, log));
    }

    /** The file of seed j's network. */
    public static String modelFile(int seedIndex) {
        return "mlp_seed" + seedIndex + ".safetensors";
    }

    private static Result runWithThreads(Settings s, Path out, PrintStream log) {
        s.validate();
        long start = System.nanoTime();
        VpSchedule schedule = VpSchedule.linear(s.vpSteps());
        MolrgData data = MolrgData.generate(new MolrgParams(s.n(), s.d(), s.k(), s.delta(), s.samples(), s.seed()),
                s.noiseSpace());
        long[] labels = new long[s.samples()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = data.labels()[i];
        }
        float[] x0 = data.x0Flat();
        float[] basesFlat = flatten(data.bases());
        Npy.write(out.resolve("bases.npy"), basesFlat, s.k(), s.n(), s.d());
        Npy.write(out.resolve("x0.npy"), x0, s.samples(), s.n());
        Npy.write(out.resolve("labels.npy"), labels, s.samples());
        log.printf("molrg: n=%d d=%d K=%d delta=%s noise space %s, %d training samples, %d test samples x %d seeds, "
                        + "%s input; %s%n", s.n(), s.d(), s.k(), s.delta(), s.noiseSpace().id(), s.samples(),
                s.testSamples(), s.seeds(), s.input().id(), schedule);

        double[] sigmas = new double[s.timesteps().length];
        for (int i = 0; i < sigmas.length; i++) {
            sigmas[i] = schedule.sigmaAtStep(s.timesteps()[i]);
        }
        List<Point> points = new ArrayList<>();
        List<Training> trainings = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            Tensor bases = DoubleTensors.fromDoubles(toDoubles(data.bases()), s.k(), s.n(), s.d());
            MolrgPosterior posterior = new MolrgPosterior(bases, s.delta(), s.noiseSpace());
            Tensor x0Train = Tensors.fromFloats(x0, s.samples(), s.n());

            // held-out set of the stopping rule: fresh samples, noised once at every grid level
            MolrgData.Samples val = MolrgData.draw(data.bases(), s.delta(), s.validationSamples(), Seeds.derive(s.seed(), 300),
                    s.noiseSpace());
            Tensor valX0 = Tensors.fromFloats(val.x0Flat(), s.validationSamples(), s.n());
            Tensor valNoisy = noisy(val.x0Flat(), s.n(), sigmas, Seeds.derive(s.seed(), 301));
            GapMeter meter = new GapMeter(posterior, valX0, valNoisy, sigmas);

            List<MlpDenoiser> mlps = new ArrayList<>();
            for (int j = 0; j < s.seeds(); j++) {
                if (s.models() == null) {
                    torch.manual_seed(Seeds.derive(s.seed(), 30 + 1000L * j)); // the network's initial weights
                    MlpDenoiser mlp = new MlpDenoiser(new MlpDenoiser.Config(new long[]{s.n()}, 2, s.hidden(), "relu",
                            NoiseEmbedding.SINUSOIDAL, 32, Parametrisation.VP));
                    Training tr = train(j, mlp, x0Train, schedule, s, meter, log);
                    trainings.add(tr);
                    save(mlp, out.resolve(modelFile(j)), s, tr);
                    mlps.add(mlp);
                } else {
                    MolrgModels.Loaded loaded = MolrgModels.load(s.models(), modelFile(j), s.n(), s.hidden());
                    MlpDenoiser mlp = loaded.mlp();
                    double gap = meter.gap(mlp);
                    String where = MolrgModels.where(s.models(), modelFile(j));
                    trainings.add(MolrgModels.training(j, loaded, gap, where));
                    log.printf("  seed %d: loaded %s, held-out MSE gap %.4f%n", j, where, gap);
                    mlps.add(mlp);
                }
            }

            // fresh test sets of the same mixture, one per seed
            List<long[]> testLabels = new ArrayList<>();
            List<Tensor> cleanTests = new ArrayList<>();
            List<Tensor> noisyTests = new ArrayList<>();
            for (int j = 0; j < s.seeds(); j++) {
                MolrgData.Samples test = MolrgData.draw(data.bases(), s.delta(), s.testSamples(),
                        Seeds.derive(s.seed(), 100 + j), s.noiseSpace());
                testLabels.add(test.labelsLong());
                cleanTests.add(Tensors.fromFloats(test.x0Flat(), s.testSamples(), s.n()));
                noisyTests.add(noisy(test.x0Flat(), s.n(), sigmas, Seeds.derive(s.seed(), 200 + j)));
            }
            int probeRows = s.probeSamples() == 0 ? s.samples() : s.probeSamples();
            long[] probeLabels = Arrays.copyOf(labels, probeRows);
            Tensor noisyTrain = noisy(Arrays.copyOf(x0, probeRows * s.n()), s.n(), sigmas, Seeds.derive(s.seed(), 10));
            Tensor cleanTrain = x0Train.narrow(0, 0, probeRows);
            LogisticProbe.Settings probeSettings = LogisticProbe.Settings.builder().l2(s.probeL2())
                    .seed(Seeds.derive(s.seed(), 20)).build();
            for (int i = 0; i < sigmas.length; i++) {
                try (PointerScope step = new PointerScope()) {
                    double sigma = sigmas[i];
                    final int level = i;
                    Measures clean = s.input().clean() ? measure(sigma, posterior, mlps, cleanTrain, probeLabels,
                            cleanTests, testLabels, probeSettings, s.k()) : null;
                    List<Tensor> noisyAt = noisyTests.stream().map(t -> t.select(0, level)).toList();
                    Measures noisyM = s.input().noisy() ? measure(sigma, posterior, mlps, noisyTrain.select(0, i),
                            probeLabels, noisyAt, testLabels, probeSettings, s.k()) : null;
                    Stat[] mse = mse(sigma, posterior, mlps, cleanTests, noisyAt);
                    Point p = new Point(s.timesteps()[i], sigma, clean, noisyM, mse[0], mse[1], mse[2], mse[3]);
                    points.add(p);
                    Measures m = clean != null ? clean : noisyM;
                    log.printf("  t=%3d sigma=%.4f  %s CSNR (ratio of means) optimum %.3f linear %.3f mlp %.3f;"
                                    + " acc optimum %.3f mlp %.3f bayes %.3f; MSE gap %.3f%n", p.t(), sigma,
                            clean != null ? "clean" : "noisy", m.csnrOptimum().mean(), m.csnrLinear().mean(),
                            m.csnrMlp().mean(), m.accOptimum().mean(), m.accMlp().mean(), m.accBayes().mean(),
                            p.mseGap().mean());
                }
            }
        }
        List<Peak> peaks = peaks(points);
        Map<String, String> files = new LinkedHashMap<>();
        files.put("bases", "bases.npy (float32 [K, n, d])");
        files.put("x0", "x0.npy (float32 [N, n])");
        files.put("labels", "labels.npy (int64 [N])");
        if (s.models() == null) {
            files.put("models", "mlp_seed<j>.safetensors (one trained network per seed)");
        }
        files.put("plot", "molrg.png, molrg.svg");
        String noise = "x_t = x0 + sigma(t) * eps (EDM form); sigma(t) = sqrt((1 - alphabar_t) / alphabar_t) of the VP "
                + "linear schedule, t a 0-based step index; the VP network sees x_t / sqrt(1 + sigma^2); clean input: "
                + "x0 itself, the network still conditioned on sigma(t)";
        Result result = new Result(s, noise, schedule.toString(), trainings, points, peaks, files,
                (System.nanoTime() - start) / 1e9);
        plot(out.resolve("molrg"), points, s.input());
        Json.write(out.resolve("molrg.json"), result);
        return result;
    }

    /** The results as a table: one row per timestep, the headline input (clean when measured). */
    public static TextTable table(Result r) {
        boolean clean = r.settings().input().clean();
        TextTable table = new TextTable("t", "sigma", "CSNR opt", "CSNR linear", "CSNR mlp", "(mean of ratios mlp)",
                "acc opt", "acc mlp", "acc bayes", "MSE mlp/opt-1");
        for (Point p : r.points()) {
            Measures m = clean ? p.clean() : p.noisy();
            table.row(p.t(), TextTable.num(p.sigma(), 4), TextTable.num(m.csnrOptimum().mean(), 3),
                    TextTable.num(m.csnrLinear().mean(), 3), pm(m.csnrMlp(), 3), TextTable.num(m.csnrMlpMeanOfRatios().mean(), 3),
                    pm(m.accOptimum(), 3), pm(m.accMlp(), 3), TextTable.num(m.accBayes().mean(), 3), pm(p.mseGap(), 3));
        }
        return table;
    }

    /** A short summary for people: where each curve peaks, the training, and where the files are. */
    public static List<String> summary(Result r, Path out) {
        List<String> lines = new ArrayList<>();
        lines.add("input: " + (r.settings().input().clean() ? "clean (x0, conditioned on sigma)" : "noisy (x_t)")
                + " in the table; CSNR = ratio of means; noise space: " + r.settings().noiseSpace().id());
        for (Peak p : r.peaks()) {
            if (p.flat()) {
                lines.add(String.format(java.util.Locale.ROOT, "%-44s is flat: %.3f", p.curve(), p.value()));
                continue;
            }
            lines.add(String.format(java.util.Locale.ROOT, "%-44s peaks at t=%d (sigma %.3f): %.3f%s", p.curve(), p.t(),
                    p.sigma(), p.value(), (p.interior() ? "" : "  [at the edge of the grid]")
                            + (p.unimodal() ? "" : "  [not unimodal]")));
        }
        Input headline = r.settings().input().clean() ? Input.CLEAN : Input.NOISY;
        int[] perSeed = mlpPeakPerSeed(r, headline);
        StringBuilder sb = new StringBuilder("MLP CSNR (ratio of means) peak per seed: t=");
        for (int j = 0; j < perSeed.length; j++) {
            sb.append(j == 0 ? "" : ", ").append(perSeed[j]);
        }
        lines.add(sb.toString());
        double gap = 0, linearGap = 0;
        for (Point p : r.points()) {
            gap += p.mseGap().mean();
            linearGap += p.mseLinear().mean() / p.mseOptimum().mean() - 1;
        }
        lines.add(String.format(java.util.Locale.ROOT, "denoising MSE over the optimum's, minus 1, mean over the grid: MLP %.4f,"
                + " linear denoiser %.4f", gap / r.points().size(), linearGap / r.points().size()));
        for (Training t : r.training()) {
            lines.add(String.format(java.util.Locale.ROOT, "seed %d: %s, %d steps, stopped: %s, held-out gap %.4f%s", t.seedIndex(),
                    t.source() == null ? "trained" : "loaded " + t.source(), t.steps(), t.stopReason(), t.finalGap(),
                    t.source() == null ? String.format(java.util.Locale.ROOT, " (%.1f s)", t.seconds()) : ""));
        }
        lines.add(String.format(java.util.Locale.ROOT, "whole run %.1f s", r.seconds()));
        lines.add("files: " + out.toAbsolutePath().normalize() + "/{molrg.json, molrg.png, molrg.svg, bases.npy, x0.npy, labels.npy"
                + (r.settings().models() == null ? ", mlp_seed*.safetensors" : "") + "}");
        return lines;
    }

    /** Per seed, the timestep where that seed's MLP CSNR (ratio of means) is highest for {@code input}. */
    public static int[] mlpPeakPerSeed(Result r, Input input) {
        int seeds = r.settings().seeds();
        int[] best = new int[seeds];
        for (int j = 0; j < seeds; j++) {
            double v = Double.NEGATIVE_INFINITY;
            for (Point p : r.points()) {
                Measures m = input == Input.CLEAN ? p.clean() : p.noisy();
                if (m != null && m.csnrMlp().perSeed()[j] > v) {
                    v = m.csnrMlp().perSeed()[j];
                    best[j] = p.t();
                }
            }
        }
        return best;
    }

    private static String pm(Stat s, int digits) {
        return TextTable.num(s.mean(), digits) + " +- " + TextTable.num(s.std(), digits);
    }

    /** CSNR and probe accuracy of the optimum, the linear denoiser, the Bayes classifier and each seed's MLP. */
    private static Measures measure(double sigma, MolrgPosterior posterior, List<MlpDenoiser> mlps, Tensor trainIn,
                                    long[] trainLabels, List<Tensor> testIns, List<long[]> testLabels,
                                    LogisticProbe.Settings probeSettings, int k) {
        int seeds = mlps.size();
        double[] oRom = new double[seeds], oMor = new double[seeds], lRom = new double[seeds], lMor = new double[seeds];
        double[] mRom = new double[seeds], mMor = new double[seeds], oAcc = new double[seeds], mAcc = new double[seeds];
        double[] bAcc = new double[seeds], mL2 = new double[seeds];
        LogisticProbe optimumProbe = LogisticProbe.fit(posterior.mean(trainIn, sigma).abs(), trainLabels, k, probeSettings);
        for (int j = 0; j < seeds; j++) {
            try (PointerScope scope = new PointerScope()) {
                long[] y = testLabels.get(j);
                Tensor x = testIns.get(j);
                Tensor mean = posterior.mean(x, sigma);
                Csnr.Result c = Csnr.of(mean, posterior.bases(), y);
                oRom[j] = c.ratioOfMeans();
                oMor[j] = c.meanOfRatios();
                oAcc[j] = optimumProbe.evaluate(mean.abs(), y).accuracy();
                Csnr.Result cl = Csnr.of(posterior.linearMean(x, sigma), posterior.bases(), y);
                lRom[j] = cl.ratioOfMeans();
                lMor[j] = cl.meanOfRatios();
                bAcc[j] = posterior.bayesAccuracy(x, sigma, y);
                LogisticProbe mlpProbe = LogisticProbe.fit(network(mlps.get(j), trainIn, sigma)[1], trainLabels, k,
                        probeSettings);
                mL2[j] = mlpProbe.l2();
                Tensor[] net = network(mlps.get(j), x, sigma);
                Csnr.Result cm = Csnr.of(net[0], posterior.bases(), y);
                mRom[j] = cm.ratioOfMeans();
                mMor[j] = cm.meanOfRatios();
                mAcc[j] = mlpProbe.evaluate(net[1], y).accuracy();
            }
        }
        return new Measures(Stat.of(oRom), Stat.of(oMor), Stat.of(lRom), Stat.of(lMor), Stat.of(mRom), Stat.of(mMor),
                Stat.of(oAcc), Stat.of(mAcc), Stat.of(bAcc), optimumProbe.l2(), mL2);
    }

    /** Per-coordinate MSE on each seed's noisy test set: MLP, optimum, linear, and MLP/optimum - 1. */
    private static Stat[] mse(double sigma, MolrgPosterior posterior, List<MlpDenoiser> mlps, List<Tensor> cleanTests,
                              List<Tensor> noisyTests) {
        int seeds = mlps.size();
        double[] m = new double[seeds], o = new double[seeds], l = new double[seeds], g = new double[seeds];
        for (int j = 0; j < seeds; j++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor x0 = cleanTests.get(j).to(torch.ScalarType.Double);
                Tensor xt = noisyTests.get(j);
                m[j] = mse(network(mlps.get(j), xt, sigma)[0], x0);
                o[j] = mse(posterior.mean(xt, sigma), x0);
                l[j] = mse(posterior.linearMean(xt, sigma), x0);
                g[j] = m[j] / o[j] - 1;
            }
        }
        return new Stat[]{Stat.of(m), Stat.of(o), Stat.of(l), Stat.of(g)};
    }

    static double mse(Tensor estimate, Tensor x0) {
        return estimate.to(torch.ScalarType.Double).sub(x0.to(torch.ScalarType.Double)).square().mean().item_double();
    }

    /**
     * The stopping rule's measure: on a held-out set noised once at every grid level, the mean over the
     * grid of MSE_mlp(sigma) / MSE_opt(sigma) - 1.
     */
    static final class GapMeter {
        private final Tensor x0;
        private final Tensor noisy;
        private final double[] sigmas;
        private final double[] optimum;

        GapMeter(MolrgPosterior posterior, Tensor x0, Tensor noisy, double[] sigmas) {
            this.x0 = x0.to(torch.ScalarType.Double);
            this.noisy = noisy;
            this.sigmas = sigmas.clone();
            this.optimum = new double[sigmas.length];
            for (int i = 0; i < sigmas.length; i++) {
                try (PointerScope scope = new PointerScope()) {
                    optimum[i] = mse(posterior.mean(noisy.select(0, i), sigmas[i]), this.x0);
                }
            }
        }

        double gap(MlpDenoiser mlp) {
            double g = 0;
            for (int i = 0; i < sigmas.length; i++) {
                try (PointerScope scope = new PointerScope()) {
                    g += mse(network(mlp, noisy.select(0, i), sigmas[i])[0], x0) / optimum[i] - 1;
                }
            }
            return g / sigmas.length;
        }
    }

    /** The network's denoised estimate [N, n] and its probed activations [N, hidden], in batches, without autograd. */
    static Tensor[] network(MlpDenoiser mlp, Tensor xt, double sigma) {
        long n = xt.size(0);
        int batch = 4096;
        TensorVector denoised = new TensorVector();
        TensorVector feats = new TensorVector();
        try (NoGradGuard guard = new NoGradGuard()) {
            for (long from = 0; from < n; from += batch) {
                long len = Math.min(batch, n - from);
                Tensor sig = torch.full(new long[]{len}, new Scalar((float) sigma), Tensors.options(torch.ScalarType.Float));
                Denoiser.Output o = mlp.forward(xt.narrow(0, from, len).to(torch.ScalarType.Float), sig, Set.of(PROBED_TAP), true);
                denoised.push_back(o.denoised());
                feats.push_back(o.taps().get(PROBED_TAP));
            }
            return new Tensor[]{torch.cat(denoised, 0), torch.cat(feats, 0)};
        }
    }

    /**
     * DDPM training with train.Trainer's loop, each step on a batch drawn with replacement, a timestep per
     * sample uniform in [0, T-1] of the experiment's schedule, and the noise-prediction loss
     * ||eps_hat - eps||^2 = ||D - x0||^2 / sigma^2 (the VP loss); Adam, no EMA. Every {@code evalEvery} steps
     * the {@link GapStopping} rule measures the held-out gap: it stops at the tolerance, halves the rate on a
     * plateau, and stops on a plateau after {@link Settings#LR_HALVINGS} halvings; at most
     * {@code ceil(epochs * samples / batch)} steps (the cap).
     */
    private static Training train(int seedIndex, MlpDenoiser mlp, Tensor x0, VpSchedule schedule, Settings s,
                                  GapMeter meter, PrintStream log) {
        long start = System.nanoTime();
        int n = (int) x0.size(0);
        int stepsPerEpoch = (n + s.batch() - 1) / s.batch();
        int total = (int) Settings.trainingSteps(s.epochs(), n, s.batch()); // validate() keeps it within int
        TrainConfig cfg = TrainConfig.builder().steps(total).batch(s.batch()).lr(s.lr()).warmupSteps(0).emaDecay(0)
                .seed(Seeds.derive(s.seed(), 31 + 1000L * seedIndex)).loss(TrainConfig.LossMode.VP).checkpointEvery(0)
                .build();
        double[] lastEpoch = new double[stepsPerEpoch];
        GapStopping rule = new GapStopping(s.tolerance(), s.patience(), Settings.LR_HALVINGS);
        List<GapCheck> checks = new ArrayList<>();
        Trainer.Result r;
        try {
            r = new Trainer(mlp, cfg).vpSchedule(schedule).monitor(s.evalEvery(), step -> {
                double gap = meter.gap(mlp);
                Trainer.Decision d = rule.next(gap);
                checks.add(new GapCheck(step, gap, d.lrScale()));
                log.printf("  seed %d: step %d/%d  held-out MSE gap %.4f  lr x%.3g%s%n", seedIndex, step, total, gap,
                        d.lrScale(), d.stop() ? "  stop: " + rule.reason() : "");
                return d;
            }).run(new TensorImageSource(x0), null, false, p -> lastEpoch[(int) ((p.step() - 1) % stepsPerEpoch)] = p.loss());
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
        String reason = rule.reason() == null ? "cap" : rule.reason();
        double gap = meter.gap(mlp);
        log.printf("  seed %d: trained %d steps (%s), held-out MSE gap %.4f%n", seedIndex, r.steps(), reason, gap);
        return new Training(seedIndex, r.steps(), reason, gap, loss, (System.nanoTime() - start) / 1e9, checks, null);
    }

    private static void save(MlpDenoiser mlp, Path file, Settings s, Training t) {
        Map<String, Object> prov = new LinkedHashMap<>();
        prov.put("experiment", "molrg");
        prov.put("settings", s);
        prov.put("seedIndex", t.seedIndex());
        prov.put("steps", t.steps());
        prov.put("stopReason", t.stopReason());
        prov.put("heldOutGap", t.finalGap());
        try {
            ModelFiles.save(mlp, file, prov);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Peak> peaks(List<Point> points) {
        List<Peak> peaks = new ArrayList<>();
        for (Input in : new Input[]{Input.CLEAN, Input.NOISY}) {
            if ((in == Input.CLEAN ? points.get(0).clean() : points.get(0).noisy()) == null) {
                continue;
            }
            java.util.function.Function<Point, Measures> m = in == Input.CLEAN ? Point::clean : Point::noisy;
            String p = in.id() + ": ";
            peaks.add(peak(p + "optimum CSNR (ratio of means)", points, q -> m.apply(q).csnrOptimum().mean()));
            peaks.add(peak(p + "optimum CSNR (mean of ratios)", points, q -> m.apply(q).csnrOptimumMeanOfRatios().mean()));
            peaks.add(peak(p + "linear CSNR (ratio of means)", points, q -> m.apply(q).csnrLinear().mean()));
            peaks.add(peak(p + "MLP CSNR (ratio of means)", points, q -> m.apply(q).csnrMlp().mean()));
            peaks.add(peak(p + "MLP CSNR (mean of ratios)", points, q -> m.apply(q).csnrMlpMeanOfRatios().mean()));
            peaks.add(peak(p + "optimum probe accuracy", points, q -> m.apply(q).accOptimum().mean()));
            peaks.add(peak(p + "MLP probe accuracy", points, q -> m.apply(q).accMlp().mean()));
        }
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
        double[] v = points.stream().mapToDouble(f).toArray();
        double min = Arrays.stream(v).min().orElse(v[best]);
        boolean flat = v[best] - min <= 1e-9 * Math.abs(v[best]);
        return new Peak(name, p.t(), p.sigma(), v[best], best > 0 && best < points.size() - 1, unimodal(v, best), flat);
    }

    /** Whether v rises (not strictly) up to index {@code peak} and falls (not strictly) after it. */
    static boolean unimodal(double[] v, int peak) {
        for (int i = 1; i < v.length; i++) {
            if (i <= peak ? v[i] < v[i - 1] : v[i] > v[i - 1]) {
                return false;
            }
        }
        return true;
    }

    private static void plot(Path base, List<Point> points, Input input) {
        double[] t = points.stream().mapToDouble(Point::t).toArray();
        List<LinePlot.Panel> panels = new ArrayList<>();
        for (Input in : new Input[]{Input.CLEAN, Input.NOISY}) {
            if (in == Input.CLEAN ? !input.clean() : !input.noisy()) {
                continue;
            }
            java.util.function.Function<Point, Measures> m = in == Input.CLEAN ? Point::clean : Point::noisy;
            String what = in == Input.CLEAN ? "clean input" : "noisy input";
            panels.add(new LinePlot.Panel("MoLRG, " + what + ": CSNR, ratio of means (MLP: mean +- std over seeds)",
                    "timestep t", "CSNR (log)", false, true, List.of(
                    LinePlot.Series.of("optimum E[x0|x]", t, mean(points, q -> m.apply(q).csnrOptimum())),
                    LinePlot.Series.of("linear (Wiener)", t, mean(points, q -> m.apply(q).csnrLinear())),
                    new LinePlot.Series("trained MLP", t, mean(points, q -> m.apply(q).csnrMlp()),
                            std(points, q -> m.apply(q).csnrMlp())))));
            panels.add(new LinePlot.Panel("MoLRG, " + what + ": linear-probe accuracy (mean +- std over seeds)",
                    "timestep t", "test accuracy", false, false, List.of(
                    new LinePlot.Series("optimum |E[x0|x]|", t, mean(points, q -> m.apply(q).accOptimum()),
                            std(points, q -> m.apply(q).accOptimum())),
                    new LinePlot.Series("Bayes ceiling", t, mean(points, q -> m.apply(q).accBayes()),
                            std(points, q -> m.apply(q).accBayes())),
                    new LinePlot.Series("MLP layer 2", t, mean(points, q -> m.apply(q).accMlp()),
                            std(points, q -> m.apply(q).accMlp())))));
        }
        panels.add(new LinePlot.Panel("MoLRG: denoising MSE per coordinate on noisy input", "timestep t", "MSE (log)",
                false, true, List.of(
                LinePlot.Series.of("optimum", t, mean(points, Point::mseOptimum)),
                LinePlot.Series.of("linear (Wiener)", t, mean(points, Point::mseLinear)),
                new LinePlot.Series("trained MLP", t, mean(points, Point::mseMlp), std(points, Point::mseMlp)))));
        LinePlot.write(base, panels);
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
