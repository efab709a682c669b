package org.diffrep.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.BuildInfo;
import org.diffrep.InvalidInputException;
import org.diffrep.model.Finite;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelSize;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.diffrep.noise.VpSchedule;
import org.diffrep.ops.AdamOptimizer;
import org.diffrep.ops.MemoryBudget;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains a {@link NetworkDenoiser} by denoising score matching: each step draws a batch (with
 * replacement), a noise level per image (log-normal for EDM, uniform VP timestep, or the fixed DAE
 * level), adds noise and minimises the weighted MSE of D(x0 + sigma eps; sigma) to x0 with Adam
 * (linear warm-up), keeping an EMA of the weights. With a checkpoint path it saves atomically every
 * {@code checkpointEvery} steps and at the end, and resumes from that file.
 */
public final class Trainer {

    /** Progress after one step: the step number (1-based), the batch loss and the images per second so far. */
    public record StepReport(long step, long totalSteps, double loss, double imagesPerSecond) {
    }

    /** The outcome: the step reached, the mean loss of the last 100 steps, the wall time. */
    public record Result(long steps, double recentLoss, double seconds, double imagesPerSecond) {
    }

    /**
     * Looks at the model every few steps (see {@link #monitor}) and says whether to stop, and the share of
     * the configured learning rate to use from then on.
     */
    public interface Monitor {
        Decision check(long step);
    }

    /** A {@link Monitor}'s answer: stop now, or go on at {@code lrScale} times the configured rate. */
    public record Decision(boolean stop, double lrScale) {
        public Decision {
            if (!(lrScale > 0) || Double.isInfinite(lrScale)) {
                throw new IllegalArgumentException("lrScale must be finite and > 0, got " + lrScale);
            }
        }
    }

    private final NetworkDenoiser model;
    private final TrainConfig cfg;
    private final AdamOptimizer adam;
    private final Ema ema;
    private Map<String, Object> provenance; // null until set, or recorded by run
    private VpSchedule vpSchedule = VpSchedule.DDPM;
    private Monitor monitor;
    private long monitorEvery;
    private double lrScale = 1;

    public Trainer(NetworkDenoiser model, TrainConfig cfg) {
        checkMemory(model, cfg);
        this.model = model;
        this.cfg = cfg;
        Map<String, Tensor> params = model.parameterTensors();
        this.adam = new AdamOptimizer(params);
        this.ema = new Ema(params, cfg.emaDecay());
    }

    /**
     * Refuses a batch whose training step cannot fit the memory limit (weights, gradients, Adam, EMA,
     * and per image its activations), before anything is allocated.
     */
    public static void checkMemory(NetworkDenoiser model, TrainConfig cfg) {
        ModelSize size = model.size();
        MemoryBudget.requireNative("{batch} " + cfg.batch(), size.trainingBytes(cfg.batch()),
                "a training step on " + cfg.batch() + " images of " + Arrays.toString(model.inputShape()) + " with a "
                        + String.format(Locale.ROOT, "%.3g", size.parameters()) + "-parameter " + model.kind(), "batch");
        MemoryBudget.requireHeap("{batch} " + cfg.batch(), 16.0 * cfg.batch(), "the batch's indices and noise levels",
                "batch");
    }

    /**
     * Sets the provenance written into checkpoints (and returned by {@link #provenance()}) instead of the
     * one {@link #run} records.
     */
    public Trainer provenance(Map<String, Object> p) {
        this.provenance = new LinkedHashMap<>(p);
        return this;
    }

    /**
     * Where the weights came from, for the model file: what {@link #provenance(Map)} set, else what
     * {@link #run} recorded ({@link #provenance(TrainConfig, ImageSource)}); empty before either.
     */
    public Map<String, Object> provenance() {
        return provenance == null ? Map.of() : Collections.unmodifiableMap(provenance);
    }

    /**
     * What a run on {@code data} with {@code cfg} records about itself: the data ({@link ImageSource#source},
     * a dataset's source), the training images, the settings and the diffrep version. A checkpoint is only
     * resumed on the same data and training images.
     */
    public static Map<String, Object> provenance(TrainConfig cfg, ImageSource data) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("data", data.source());
        p.put("trainCount", data.size());
        p.put("steps", cfg.steps());
        p.put("batch", cfg.batch());
        p.put("lr", cfg.lr());
        p.put("ema", cfg.emaDecay());
        p.put("loss", cfg.loss().name());
        p.put("daeSigma", cfg.daeSigma());
        p.put("seed", cfg.seed());
        p.put("version", BuildInfo.version());
        return p;
    }

    /**
     * The schedule whose integer steps the VP loss draws its timesteps from, uniformly (default
     * {@link VpSchedule#DDPM}, linear with T = 1000; the MoLRG experiment trains on T = 500).
     */
    public Trainer vpSchedule(VpSchedule schedule) {
        this.vpSchedule = schedule;
        return this;
    }

    /**
     * Calls {@code m} after every {@code every} steps (before the last): a stopping rule on a held-out
     * measure, and a learning-rate schedule that depends on it. A run that stops early ends like one that
     * reached {@code cfg.steps()} (checkpoint saved, EMA weights copied), with {@link Result#steps} the
     * step it stopped at.
     */
    public Trainer monitor(long every, Monitor m) {
        if (every < 1) {
            throw new IllegalArgumentException("every must be >= 1, got " + every);
        }
        this.monitorEvery = every;
        this.monitor = m;
        return this;
    }

    /**
     * Runs training up to {@code cfg.steps()}. If {@code resume} and the checkpoint exists, continues
     * from it. At the end the model holds the EMA weights.
     */
    public Result run(ImageSource data, Path checkpoint, boolean resume, Consumer<StepReport> progress)
            throws IOException {
        if (provenance == null) {
            provenance = provenance(cfg, data);
            if (cfg.loss() == TrainConfig.LossMode.VP && vpSchedule != VpSchedule.DDPM) {
                provenance.put("vpSchedule", vpSchedule.toString());
            }
        }
        long start = 0;
        if (resume && checkpoint != null && Files.exists(checkpoint)) {
            start = Checkpoint.restore(checkpoint, model, ema, adam, cfg, provenance);
        }
        model.train(true);
        // an MLP is matrix products throughout: OpenBLAS may use every core (docs/PERFORMANCE.md)
        try (Threads.BlasSetting blas = model instanceof MlpDenoiser ? Threads.parallelBlas() : () -> { }) {
            return train(data, checkpoint, start, progress);
        }
    }

    private Result train(ImageSource data, Path checkpoint, long start, Consumer<StepReport> progress)
            throws IOException {
        long t0 = System.nanoTime();
        double[] recent = new double[100];
        int recentCount = 0;
        long done = 0;
        long end = cfg.steps();
        for (long step = start; step < end; step++) {
            double loss;
            try (PointerScope scope = new PointerScope()) {
                loss = step(data, step);
            }
            if (!Double.isFinite(loss)) {
                throw diverged("the training loss is " + loss + " at step " + (step + 1), checkpoint, start);
            }
            recent[(int) (step % recent.length)] = loss;
            recentCount = Math.min(recent.length, recentCount + 1);
            done++;
            double secs = (System.nanoTime() - t0) / 1e9;
            if (progress != null) {
                progress.accept(new StepReport(step + 1, cfg.steps(), loss, done * cfg.batch() / Math.max(secs, 1e-9)));
            }
            if (monitor != null && (step + 1) % monitorEvery == 0 && step + 1 < end) {
                Decision d = monitor.check(step + 1);
                lrScale = d.lrScale();
                if (d.stop()) {
                    end = step + 1;
                }
            }
            boolean last = step + 1 == end;
            if (checkpoint != null && (last || cfg.checkpointEvery() > 0 && (step + 1) % cfg.checkpointEvery() == 0)) {
                requireFiniteWeights(step + 1, checkpoint, start);
                Checkpoint.save(checkpoint, model, ema, adam, step + 1, cfg, provenance);
            }
        }
        requireFiniteWeights(Math.max(start, end), checkpoint, start);
        ema.copyToParams();
        model.train(false);
        double secs = (System.nanoTime() - t0) / 1e9;
        double mean = 0;
        for (int i = 0; i < recentCount; i++) {
            mean += recent[i];
        }
        return new Result(Math.max(start, end), recentCount == 0 ? Double.NaN : mean / recentCount, secs,
                done * cfg.batch() / Math.max(secs, 1e-9));
    }

    /** Stops a run whose weights or EMA hold NaN or infinite values, before anything is saved. */
    private void requireFiniteWeights(long step, Path checkpoint, long start) {
        for (Map<String, Tensor> m : List.of(model.parameterTensors(), ema.weights())) {
            for (Map.Entry<String, Tensor> e : m.entrySet()) {
                if (!Finite.all(e.getValue())) {
                    throw diverged("the weights hold NaN or infinite values after step " + step + " (tensor '"
                            + e.getKey() + "')", checkpoint, start);
                }
            }
        }
    }

    /** The error of a run that diverged: names the step and the learning rate; says that nothing was saved. */
    private InvalidInputException diverged(String what, Path checkpoint, long start) {
        String kept = checkpoint == null ? "" : Files.exists(checkpoint)
                ? "; " + InvalidInputException.literal(checkpoint) + " is left as it was (step "
                        + Checkpoint.stepOf(checkpoint) + ")"
                : "; no checkpoint was written";
        return InvalidInputException.fields("{lr} " + cfg.lr() + ": training diverged: " + InvalidInputException.literal(what)
                + " of " + cfg.steps() + "; lower {lr} (or raise {warmupSteps}"
                + (cfg.warmupSteps() > 0 ? " from " + cfg.warmupSteps() : "") + "). Nothing was saved" + kept,
                "lr", "warmupSteps");
    }

    /** One optimisation step; its randomness depends only on (seed, step). */
    private double step(ImageSource data, long step) {
        long key = mix(cfg.seed(), step);
        SplittableRandom rng = new SplittableRandom(key);
        long[] idx = new long[cfg.batch()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = rng.nextLong(data.size());
        }
        torch.manual_seed(key);
        Tensor x0 = data.images(idx);
        float[] sig = new float[cfg.batch()];
        float[] w = new float[cfg.batch()];
        for (int i = 0; i < sig.length; i++) {
            double s = sampleSigma(rng);
            sig[i] = (float) s;
            w[i] = (float) weight(s);
        }
        Tensor sigma = Tensors.fromFloats(sig);
        long[] b = new long[(int) x0.dim()];
        java.util.Arrays.fill(b, 1);
        b[0] = -1;
        Tensor eps = torch.randn(Tensors.shape(x0), Tensors.options(torch.ScalarType.Float));
        Tensor x = x0.add(eps.mul(sigma.reshape(b)));
        Tensor d = model.forward(x, sigma, Set.of(), true).denoised();
        Tensor perSample = d.sub(x0).square().reshape(cfg.batch(), -1).mean(1);
        Tensor loss = perSample.mul(Tensors.fromFloats(w)).mean();
        loss.backward();
        adam.step(cfg.lr() * lrScale * Math.min(1.0, (step + 1) / (double) Math.max(1, cfg.warmupSteps())));
        ema.update(step);
        return loss.item_double();
    }

    private double sampleSigma(SplittableRandom rng) {
        if (cfg.daeSigma() > 0) {
            return cfg.daeSigma();
        }
        if (cfg.loss() == TrainConfig.LossMode.VP) {
            return vpSchedule.sigmaAtStep(rng.nextInt(vpSchedule.steps()));
        }
        return Math.exp(cfg.pMean() + cfg.pStd() * gaussian(rng));
    }

    private double weight(double s) {
        if (cfg.loss() == TrainConfig.LossMode.VP) {
            return 1.0 / (s * s);
        }
        double sd = Parametrisation.SIGMA_DATA;
        return (s * s + sd * sd) / (s * sd * s * sd);
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** SplitMix64 finaliser of (seed, step): independent streams per step. */
    static long mix(long seed, long step) {
        long z = seed * 0x9E3779B97F4A7C15L + step + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The Adam optimizer (for tests and tools). */
    AdamOptimizer optimizer() {
        return adam;
    }
}
