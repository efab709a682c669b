package org.diffrep.probe;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.AdamOptimizer;
import org.diffrep.ops.DoubleTensors;
import org.diffrep.ops.Tensors;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * Multinomial logistic regression probe: features centred with the training split's mean and scaled
 * (per column, or by one common scale for sparse codes; see {@link Scaling}), L2 penalty on the
 * weights (chosen by a validation search unless given), full-batch L-BFGS when the training matrix
 * fits the budget and minibatch Adam beyond it.
 * The fitted probe holds its parameters in Java arrays, so it outlives any PointerScope.
 */
public final class LogisticProbe implements Probe {

    /**
     * Settings of a fit. Build with {@link #builder}: the defaults are its field initialisers, also
     * readable as {@link #DEFAULTS}.
     *
     * @param l2                  L2 penalty; NaN (the default) chooses it from {@code l2Grid} on a held-out part
     * @param l2Grid              candidates of the search (default 1e-6, 3e-6, ..., 1e-3, 1e-2, 1e-1)
     * @param validationFraction  share of the training split held out by the search (default 0.2)
     * @param lbfgs               L-BFGS settings of the full-batch fits (default {@link Lbfgs.Settings#DEFAULTS})
     * @param fullBatchMaxValues  N*C above which training uses minibatch Adam (default 50,000,000)
     * @param adamEpochs          Adam epochs (default 30)
     * @param adamBatch           Adam minibatch size (default 1024)
     * @param adamLearningRate    Adam step size (default 1e-3)
     * @param seed                seed of the search split and the Adam shuffles (default 0)
     * @param scaling             how centred features are scaled before the fit (default AUTO)
     */
    public record Settings(double l2, double[] l2Grid, double validationFraction, Lbfgs.Settings lbfgs,
                           long fullBatchMaxValues, int adamEpochs, int adamBatch, double adamLearningRate,
                           long seed, Scaling scaling) {

        /** Every field at its default. */
        public static final Settings DEFAULTS = builder().build();

        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding these settings. */
        public Builder toBuilder() {
            return new Builder().l2(l2).l2Grid(l2Grid).validationFraction(validationFraction).lbfgs(lbfgs)
                    .fullBatchMaxValues(fullBatchMaxValues).adamEpochs(adamEpochs).adamBatch(adamBatch)
                    .adamLearningRate(adamLearningRate).seed(seed).scaling(scaling);
        }

        /** The fields with their defaults; every setter returns the builder. */
        public static final class Builder {
            private double l2 = Double.NaN;
            private double[] l2Grid = {1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 1e-2, 1e-1};
            private double validationFraction = 0.2;
            private Lbfgs.Settings lbfgs = Lbfgs.Settings.DEFAULTS;
            private long fullBatchMaxValues = 50_000_000L;
            private int adamEpochs = 30;
            private int adamBatch = 1024;
            private double adamLearningRate = 1e-3;
            private long seed = 0;
            private Scaling scaling = Scaling.AUTO;

            public Builder l2(double v) { l2 = v; return this; }
            public Builder l2Grid(double... v) { l2Grid = v.clone(); return this; }
            public Builder validationFraction(double v) { validationFraction = v; return this; }
            public Builder lbfgs(Lbfgs.Settings v) { lbfgs = v; return this; }
            public Builder fullBatchMaxValues(long v) { fullBatchMaxValues = v; return this; }
            public Builder adamEpochs(int v) { adamEpochs = v; return this; }
            public Builder adamBatch(int v) { adamBatch = v; return this; }
            public Builder adamLearningRate(double v) { adamLearningRate = v; return this; }
            public Builder seed(long v) { seed = v; return this; }
            public Builder scaling(Scaling v) { scaling = v; return this; }

            public Settings build() {
                require(Double.isNaN(l2) || l2 >= 0, "l2 must be >= 0 (or NaN for the search), got " + l2);
                require(l2Grid.length >= 1, "l2Grid: at least one candidate is required");
                for (double v : l2Grid) {
                    require(v >= 0 && Double.isFinite(v), "l2Grid: candidates must be finite and >= 0, got " + v);
                }
                require(validationFraction >= 0 && validationFraction < 1,
                        "validationFraction must be in [0, 1), got " + validationFraction);
                require(lbfgs != null && scaling != null, "lbfgs and scaling are required");
                require(fullBatchMaxValues >= 0, "fullBatchMaxValues must be >= 0, got " + fullBatchMaxValues);
                require(adamEpochs >= 1 && adamBatch >= 1, "adamEpochs and adamBatch must be >= 1, got "
                        + adamEpochs + " and " + adamBatch);
                require(adamLearningRate > 0 && Double.isFinite(adamLearningRate),
                        "adamLearningRate must be finite and > 0, got " + adamLearningRate);
                return new Settings(l2, l2Grid.clone(), validationFraction, lbfgs, fullBatchMaxValues, adamEpochs,
                        adamBatch, adamLearningRate, seed, scaling);
            }

            private static void require(boolean ok, String message) {
                if (!ok) {
                    throw new InvalidInputException(message);
                }
            }
        }
    }

    /**
     * Scaling of the centred features. Per-column standardisation suits dense features; on sparse codes
     * (an SAE's, where a latent may fire on 1% of rows) it blows rare latents up to unit variance, and
     * the probe then fits them: on MNIST mid-block SAE codes it cost 8-10 points of test accuracy
     * against one common scale (docs/SAE.md).
     */
    public enum Scaling {
        /** Each column divided by its own standard deviation. */
        COLUMNS,
        /** Every column divided by one scale, the root mean square of the column deviations. */
        GLOBAL,
        /** GLOBAL when more than half of the training values are exactly 0 (sparse codes), else COLUMNS. */
        AUTO;
    }

    private final int numClasses;
    private final int dim;
    private final double[] mean;
    private final double[] invStd;
    private final double[] params; // W [C, K] row-major, then b [K], on standardised features
    private final double l2;
    private final boolean l2Searched;
    private final Scaling scaling;
    private final int iterations;
    private final boolean converged;
    private final double fitSeconds;

    private LogisticProbe(int numClasses, int dim, double[] mean, double[] invStd, double[] params, double l2,
                          boolean l2Searched, int iterations, boolean converged, double fitSeconds, Scaling scaling) {
        this.scaling = scaling;
        this.numClasses = numClasses;
        this.dim = dim;
        this.mean = mean;
        this.invStd = invStd;
        this.params = params;
        this.l2 = l2;
        this.l2Searched = l2Searched;
        this.iterations = iterations;
        this.converged = converged;
        this.fitSeconds = fitSeconds;
    }

    /** Below this many feature values a fit runs on one LibTorch thread: its ops are too small to share. */
    static final long SINGLE_THREAD_BELOW = 1L << 20;

    /**
     * Fits a probe on features x [N, C] with labels in [0, numClasses). Small problems run with one
     * LibTorch intra-op thread (restored afterwards): each L-BFGS iteration is a few dozen tiny ops, and
     * on a loaded machine the thread hand-offs cost far more than the arithmetic.
     */
    public static LogisticProbe fit(Tensor x, long[] labels, int numClasses, Settings settings) {
        int threads = torch.get_num_threads();
        boolean small = x.numel() < SINGLE_THREAD_BELOW && threads > 1;
        if (small) {
            torch.set_num_threads(1);
        }
        try {
            return fitWithThreads(x, labels, numClasses, settings);
        } finally {
            if (small) {
                torch.set_num_threads(threads);
            }
        }
    }

    private static LogisticProbe fitWithThreads(Tensor x, long[] labels, int numClasses, Settings settings) {
        long start = System.nanoTime();
        if (x.dim() != 2 || x.size(0) != labels.length) {
            throw new IllegalArgumentException("features must be [" + labels.length + ", C], got "
                    + Arrays.toString(Tensors.shape(x)));
        }
        if (labels.length == 0) {
            throw new IllegalArgumentException("no training samples");
        }
        try (PointerScope scope = new PointerScope()) {
            int c = (int) x.size(1);
            Tensor xd = x.to(ScalarType.Double);
            double[] mean = DoubleTensors.toDoubles(xd.mean(new long[]{0}, false, null));
            double[] std = DoubleTensors.toDoubles(xd.std(new long[]{0}, false, false));
            Scaling scaling = settings.scaling() != Scaling.AUTO ? settings.scaling()
                    : xd.eq(new Scalar(0.0)).to(ScalarType.Double).mean().item_double() > 0.5 ? Scaling.GLOBAL
                    : Scaling.COLUMNS;
            double[] invStd = new double[c];
            double meanVar = 0;
            for (int j = 0; j < c; j++) {
                meanVar += std[j] * std[j] / c;
            }
            for (int j = 0; j < c; j++) {
                double sd = scaling == Scaling.GLOBAL ? Math.sqrt(meanVar) : std[j];
                invStd[j] = sd > 1e-12 ? 1 / sd : 1; // constant features stay 0 after centring
            }
            Tensor z = standardise(xd, mean, invStd);
            double l2 = settings.l2();
            boolean searched = Double.isNaN(l2);
            double[] warm = null;
            if (searched) {
                Fit best = searchL2(z, labels, numClasses, settings);
                l2 = best.l2;
                warm = best.params;
            }
            Fit fit = train(z, labels, numClasses, l2, settings, warm);
            double seconds = (System.nanoTime() - start) / 1e9;
            return new LogisticProbe(numClasses, c, mean, invStd, fit.params, l2, searched, fit.iterations,
                    fit.converged, seconds, scaling);
        }
    }

    /** Logits [N, K] (float64) of raw (unstandardised) features. */
    @Override
    public Tensor logits(Tensor x) {
        if (x.dim() != 2 || x.size(1) != dim) {
            throw new IllegalArgumentException("features must be [N, " + dim + "], got " + Arrays.toString(Tensors.shape(x)));
        }
        Tensor z = standardise(x.to(ScalarType.Double), mean, invStd);
        return SoftmaxObjective.logits(z, DoubleTensors.fromDoubles(params), dim, numClasses);
    }

    @Override
    public ProbeScoring.FitInfo fitInfo() {
        return new ProbeScoring.FitInfo(l2, l2Searched, iterations, converged, fitSeconds);
    }

    /** The scaling used (AUTO resolved). */
    public Scaling scaling() {
        return scaling;
    }

    public double l2() {
        return l2;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    /** The fitted parameters on standardised features: W [C, K] row-major, then b [K] (a copy). */
    public double[] parameters() {
        return params.clone();
    }

    private record Fit(double[] params, double l2, int iterations, boolean converged) {
    }

    /** Full-batch L-BFGS (from {@code warm} when given) or, beyond the budget, minibatch Adam. */
    private static Fit train(Tensor z, long[] labels, int k, double l2, Settings s, double[] warm) {
        if (z.numel() <= s.fullBatchMaxValues()) {
            SoftmaxObjective objective = new SoftmaxObjective(z, labels, k, l2);
            Lbfgs.Result r = Lbfgs.minimize(objective, warm == null ? objective.zeros() : warm, s.lbfgs());
            return new Fit(r.x(), l2, r.iterations(), r.converged());
        }
        return trainAdam(z, labels, k, l2, s);
    }

    /** Minibatch Adam on the same objective, for training sets beyond the full-batch budget. */
    private static Fit trainAdam(Tensor z, long[] labels, int k, double l2, Settings s) {
        long c = z.size(1);
        int n = labels.length;
        Tensor p = torch.zeros(new long[]{c * k + k}, Tensors.options(ScalarType.Double));
        Tensor g = p.clone();
        AdamOptimizer adam = new AdamOptimizer(Map.of("p", p));
        Map<String, Tensor> gradient = Map.of("p", g);
        Random rng = new Random(s.seed());
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int epoch = 0; epoch < s.adamEpochs(); epoch++) {
            shuffle(order, rng);
            for (int from = 0; from < n; from += s.adamBatch()) {
                try (PointerScope scope = new PointerScope()) {
                    int to = Math.min(n, from + s.adamBatch());
                    long[] rows = new long[to - from];
                    long[] y = new long[to - from];
                    for (int i = from; i < to; i++) {
                        rows[i - from] = order[i];
                        y[i - from] = labels[order[i]];
                    }
                    Tensor zb = z.index_select(0, Tensors.fromLongs(rows));
                    new SoftmaxObjective(zb, y, k, l2).evaluate(p, g);
                    adam.step(s.adamLearningRate(), gradient);
                }
            }
        }
        return new Fit(DoubleTensors.toDoubles(p), l2, s.adamEpochs(), true);
    }

    /**
     * The grid value with the best held-out accuracy (ties: lower held-out log-loss), with its fit on
     * the search's training part. The grid runs from the strongest penalty down, each fit starting
     * from the previous one's solution.
     */
    private static Fit searchL2(Tensor z, long[] labels, int k, Settings full) {
        // ranking candidates needs less precision than the final fit (sklearn stops at 100 iterations too)
        Lbfgs.Settings coarse = full.lbfgs().toBuilder().maxIterations(Math.min(100, full.lbfgs().maxIterations()))
                .gradTolerance(1e-4).build();
        Settings s = full.toBuilder().lbfgs(coarse).build();
        int n = labels.length;
        int held = (int) Math.round(n * s.validationFraction());
        double[] grid = s.l2Grid().clone();
        Arrays.sort(grid);
        if (held < 1 || n - held < 2 || grid.length == 1) {
            return new Fit(null, grid[grid.length / 2], 0, true);
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        shuffle(order, new Random(s.seed()));
        long[] fitRows = new long[n - held], valRows = new long[held];
        long[] fitY = new long[n - held], valY = new long[held];
        for (int i = 0; i < n; i++) {
            if (i < held) {
                valRows[i] = order[i];
                valY[i] = labels[order[i]];
            } else {
                fitRows[i - held] = order[i];
                fitY[i - held] = labels[order[i]];
            }
        }
        Tensor zFit = z.index_select(0, Tensors.fromLongs(fitRows));
        Tensor zVal = z.index_select(0, Tensors.fromLongs(valRows));
        long c = z.size(1);
        Fit best = null;
        double bestAcc = -1, bestLoss = Double.POSITIVE_INFINITY;
        double[] warm = null;
        for (int g = grid.length - 1; g >= 0; g--) {
            double l2 = grid[g];
            try (PointerScope scope = new PointerScope()) {
                Fit fit = train(zFit, fitY, k, l2, s, warm);
                warm = fit.params;
                double[] logits = DoubleTensors.toDoubles(SoftmaxObjective.logits(zVal, DoubleTensors.fromDoubles(fit.params), c, k));
                double acc = 0, loss = 0;
                for (int i = 0; i < held; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    int arg = 0;
                    for (int j = 0; j < k; j++) {
                        if (logits[i * k + j] > max) {
                            max = logits[i * k + j];
                            arg = j;
                        }
                    }
                    double sum = 0;
                    for (int j = 0; j < k; j++) {
                        sum += Math.exp(logits[i * k + j] - max);
                    }
                    loss += max + Math.log(sum) - logits[i * k + (int) valY[i]];
                    if (arg == valY[i]) {
                        acc++;
                    }
                }
                if (acc > bestAcc || (acc == bestAcc && loss < bestLoss)) {
                    best = fit;
                    bestAcc = acc;
                    bestLoss = loss;
                }
            }
        }
        return best;
    }

    private static Tensor standardise(Tensor xd, double[] mean, double[] invStd) {
        return xd.sub(DoubleTensors.fromDoubles(mean)).mul(DoubleTensors.fromDoubles(invStd));
    }

    private static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
