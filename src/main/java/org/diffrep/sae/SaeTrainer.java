package org.diffrep.sae;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.model.Finite;
import org.diffrep.ops.AdamOptimizer;
import org.diffrep.ops.MemoryBudget;
import org.diffrep.ops.Threads;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Trains a {@link TopKSae} on rows of a [N, D] float32 feature tensor (CPU; typically the
 * memory-mapped tensor of a feature store). Loss: normalised MSE plus {@code auxk_alpha} times the
 * AuxK loss, in which the top {@code k_aux} pre-activations of the dead latents reconstruct the
 * residual. Adam with linear warm-up; before each step the decoder gradient loses its component
 * along each column, after it the columns are renormalised.
 */
public final class SaeTrainer {

    /** Rows used to fix the input scale and the initial b_dec. */
    static final int INIT_SAMPLE = 8192;
    private static final int WEISZFELD_ITERATIONS = 100;
    /** Names of {@link TopKSae#parameters()}, in order (as in the model file). */
    private static final String[] PARAMETER_NAMES = {"W_enc", "b_enc", "W_dec", "b_dec"};

    /**
     * A trained SAE, its training curve, its speed and the share of latents dead in the training window at the
     * end (no activation in the last {@code deadAfter} training rows).
     */
    public record Result(TopKSae sae, List<SaeMetrics> history, double samplesPerSecond, double deadInWindow) {
    }

    private final SaeConfig config;
    private final PrintStream log;
    private final int logEvery;
    private boolean progressBar;

    /** @param log where progress goes (null: silent); a bar on a terminal, else a line every {@code logEvery} steps */
    public SaeTrainer(SaeConfig config, PrintStream log, int logEvery) {
        this.config = config;
        this.log = log;
        this.logEvery = Math.max(1, logEvery);
        this.progressBar = log != null && System.console() != null;
    }

    /**
     * Trains on the rows {@code ids} of {@code features}; {@code source} names them in error messages.
     */
    public Result train(Tensor features, long[] ids, String source) {
        return train(new StoreRows(features, ids, source));
    }

    /**
     * Trains on {@code rows} (pooled store rows or tokens). The encoder product dominates, so OpenBLAS runs
     * parallel meanwhile ({@link Threads#withParallelBlas}).
     */
    public Result train(SaeRows rows) {
        return Threads.withParallelBlas(() -> trainWithThreads(rows));
    }

    /**
     * Refuses settings whose training cannot fit: the SAE's four tensors with their gradients and two
     * Adam moments, per row of a batch its pre-activations and codes (latents wide), and the
     * per-latent counters in Java. A batch is at most the {@code rows} there are.
     */
    public static void checkMemory(SaeConfig config, long rows) {
        double l = config.latents(), d = config.inputDim(), b = Math.min(config.batch(), Math.max(1, rows));
        double params = 2 * l * d + l + d;
        String what = "{latents} " + config.latents() + " {batch} " + config.batch();
        String why = "an SAE of " + config.latents() + " latents on rows of " + config.inputDim() + " values";
        MemoryBudget.requireNative(what, 4 * (4 * params + b * (6 * l + 4 * d)), why, "latents", "batch");
        MemoryBudget.requireHeap(what, 16 * l, why, "latents", "batch");
    }

    /**
     * The autoencoder training starts from: input scale and b_dec (geometric median or mean, as configured)
     * from a sample of at most {@value #INIT_SAMPLE} of the rows {@code ids}, drawn with {@code rng}; the
     * weights from the config's seed. {@link #train} calls it with {@code new Random(seed)} and goes on
     * shuffling batches with the same {@code rng}, so a loop that does the same sees the same batches
     * (the plain-LibTorch baseline of the SAE benchmark).
     */
    public TopKSae initialSae(Tensor features, long[] ids, Random rng) {
        return initialSae(new StoreRows(features, ids, "features"), rng);
    }

    /** {@link #initialSae(Tensor, long[], Random)} for any rows: the sample is {@code rows.sample(INIT_SAMPLE, rng)}. */
    public TopKSae initialSae(SaeRows rows, Random rng) {
        Tensor init = rows.sample(INIT_SAMPLE, rng);
        float scale = inputScale(init);
        Tensor xs = init.mul(new Scalar(scale));
        Tensor bDec = config.medianInit() ? geometricMedian(xs, WEISZFELD_ITERATIONS) : xs.mean(0);
        return TopKSae.init(config, scale, bDec);
    }

    private Result trainWithThreads(SaeRows rows) {
        checkMemory(config, rows.count());
        checkInput(rows);
        Random rng = new Random(config.seed());
        TopKSae sae = initialSae(rows, rng);
        SaeRows.Cursor batches = rows.cursor();
        float scale = sae.inputScale();

        Map<String, Tensor> params = new LinkedHashMap<>();
        Tensor[] p = sae.parameters();
        for (int i = 0; i < p.length; i++) {
            params.put(PARAMETER_NAMES[i], p[i]);
        }
        AdamOptimizer adam = new AdamOptimizer(params);
        long[] sinceFired = new long[config.latents()];
        List<SaeMetrics> history = new ArrayList<>();
        double fvuSum = 0, auxSum = 0, l0Sum = 0;
        int logged = 0;
        long start = System.nanoTime();
        ProgressBar bar = progressBar ? new ProgressBarBuilder().setTaskName("sae train").setInitialMax(config.steps())
                .setUnit(" steps", 1).build() : null;
        try {
            for (int step = 0; step < config.steps(); step++) {
                double lr = config.lrAt(step);
                StepResult r;
                try (PointerScope scope = new PointerScope()) {
                    Tensor x = batches.next(config.batch(), rng).mul(new Scalar(scale));
                    r = step(sae, adam, lr, x, sinceFired);
                }
                if (!Double.isFinite(r.fvu)) {
                    throw InvalidInputException.fields("{lr} " + config.lr() + ": SAE training diverged: the loss is "
                            + r.fvu + " at step " + (step + 1) + " of " + config.steps() + "; lower {lr} (or raise "
                            + "{warmup}). Nothing was saved", "lr", "warmup");
                }
                fvuSum += r.fvu;
                auxSum += r.aux;
                l0Sum += r.l0;
                logged++;
                if ((step + 1) % logEvery == 0 || step + 1 == config.steps()) {
                    SaeMetrics m = new SaeMetrics(step + 1, fvuSum / logged, auxSum / logged, l0Sum / logged,
                            deadFraction(sinceFired), lr);
                    history.add(m);
                    fvuSum = auxSum = l0Sum = 0;
                    logged = 0;
                    report(bar, m);
                }
                if (bar != null) {
                    bar.step();
                }
            }
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
        for (int i = 0; i < p.length; i++) {
            if (!Finite.all(p[i])) {
                throw InvalidInputException.fields("{lr} " + config.lr() + ": SAE training diverged: " + PARAMETER_NAMES[i]
                        + " holds NaN or infinite values after " + config.steps() + " steps; lower {lr}. Nothing was saved",
                        "lr");
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(sae, history, (double) config.steps() * config.batch() / Math.max(seconds, 1e-9),
                deadFraction(sinceFired));
    }

    private record StepResult(double fvu, double aux, double l0) {
    }

    /**
     * One optimisation step with learning rate {@code lr} on standardised rows x [B, D] (the gradients
     * are zero on entry: Adam clears them after each step); updates the dead-latent counters.
     */
    private StepResult step(TopKSae sae, AdamOptimizer adam, double lr, Tensor x, long[] sinceFired) {
        Tensor pre = sae.preActivations(x);
        TopKSae.Codes codes = sae.topk(pre, config.k());
        Tensor xHat = sae.decodeSparseStandardised(codes.values(), codes.indices());
        Tensor total = x.sub(x.mean(new long[]{0}, true, null)).square().sum();
        Tensor fvu = xHat.sub(x).square().sum().div(total.clamp_min(new Scalar(1e-12)));
        Tensor loss = fvu;
        double auxValue = 0;
        float[] deadPenalty = deadPenalty(sinceFired);
        if (deadPenalty != null && config.auxkAlpha() > 0 && config.kAux() > 0) {
            Tensor residual = x.sub(xHat).detach();
            Tensor aux = auxLoss(sae, pre, residual, deadPenalty);
            auxValue = aux.item_double();
            if (Double.isFinite(auxValue)) {
                loss = loss.add(aux.mul(new Scalar(config.auxkAlpha())));
            }
        }
        loss.backward();
        sae.removeParallelGradient();
        adam.step(lr);
        sae.normalizeDecoder();

        long[] counts;
        try (NoGradGuard g = new NoGradGuard()) {
            counts = Tensors.toLongs(codes.dense().detach().ne(new Scalar(0)).sum(0));
        }
        long nnz = 0;
        for (int j = 0; j < counts.length; j++) {
            nnz += counts[j];
            sinceFired[j] = counts[j] > 0 ? 0 : sinceFired[j] + x.size(0);
        }
        return new StepResult(fvu.item_double(), auxValue, (double) nnz / x.size(0));
    }

    /**
     * The AuxK loss: the top min(k_aux, dead) pre-activations among dead latents (alive ones pushed
     * to -inf by {@code deadPenalty}) decode, without b_dec, an estimate of the residual; the loss
     * is the residual's normalised squared error.
     */
    Tensor auxLoss(TopKSae sae, Tensor pre, Tensor residual, float[] deadPenalty) {
        int dead = 0;
        for (float p : deadPenalty) {
            if (p == 0f) {
                dead++;
            }
        }
        int kAux = Math.min(config.kAux(), dead);
        Tensor masked = pre.add(Tensors.fromFloats(deadPenalty));
        TopKSae.Codes aux = sae.topk(masked, kAux);
        Tensor eHat = sae.decodeSparseStandardised(aux.values(), aux.indices()).sub(sae.bDec);
        Tensor total = residual.sub(residual.mean(new long[]{0}, true, null)).square().sum();
        return eHat.sub(residual).square().sum().div(total.clamp_min(new Scalar(1e-12)));
    }

    /** 0 for dead latents, -inf for live ones; null when none is dead. */
    float[] deadPenalty(long[] sinceFired) {
        float[] p = new float[sinceFired.length];
        boolean any = false;
        for (int j = 0; j < p.length; j++) {
            boolean dead = sinceFired[j] >= config.deadAfter();
            p[j] = dead ? 0f : Float.NEGATIVE_INFINITY;
            any |= dead;
        }
        return any ? p : null;
    }

    private double deadFraction(long[] sinceFired) {
        int dead = 0;
        for (long s : sinceFired) {
            if (s >= config.deadAfter()) {
                dead++;
            }
        }
        return (double) dead / sinceFired.length;
    }

    private void report(ProgressBar bar, SaeMetrics m) {
        String msg = String.format("fvu %.4f  L0 %.1f  dead %.1f%%  aux %.3f", m.fvu(), m.l0(), 100 * m.deadFraction(),
                m.auxLoss());
        if (bar != null) {
            bar.setExtraMessage(msg);
        } else if (log != null) {
            log.printf("sae train: step %d/%d  %s  lr %.2e%n", m.step(), config.steps(), msg, m.lr());
        }
    }

    /**
     * The one input scale s = sqrt(D / mean ||x - mean x||^2): standardised rows have unit average
     * per-coordinate variance, so the learning rate and the loss do not depend on the layer's units.
     */
    static float inputScale(Tensor x) {
        double var = x.sub(x.mean(new long[]{0}, true, null)).square().sum(new long[]{1}, false, null).mean().item_double();
        if (!(var > 0)) {
            throw new InvalidInputException("the feature rows are all equal (zero variance); nothing to encode");
        }
        return (float) Math.sqrt(x.size(1) / var);
    }

    /** Weiszfeld's iterations for the point minimising the sum of Euclidean distances to the rows of x. */
    static Tensor geometricMedian(Tensor x, int iterations) {
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor y = x.mean(0);
            for (int i = 0; i < iterations; i++) {
                Tensor w = x.sub(y).square().sum(new long[]{1}, false, null).sqrt().clamp_min(new Scalar(1e-8)).reciprocal();
                Tensor next = w.unsqueeze(1).mul(x).sum(0).div(w.sum());
                double moved = next.sub(y).square().sum().item_double();
                y = next;
                if (moved < 1e-12) {
                    break;
                }
            }
            return y;
        }
    }

    private void checkInput(SaeRows rows) {
        if (rows.width() != config.inputDim()) {
            throw new InvalidInputException(rows.source() + ": rows have " + rows.width() + " values, the SAE expects "
                    + config.inputDim());
        }
        if (rows.count() < 2) {
            throw new InvalidInputException(rows.source() + ": " + rows.count() + " training rows; need at least 2");
        }
        rows.requireFinite();
    }
}
