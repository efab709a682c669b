package org.diffrep.probe;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.AdamOptimizer;
import org.diffrep.ops.Tensors;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * The two trained-by-gradient probes of the research protocol: BatchNorm1d (no affine) + linear,
 * and a 2-layer ReLU MLP on standardised features. Minibatch Adam with cross-entropy and a small
 * L2 penalty; fixed seeds for the initialisation and the shuffles. The fitted parameters are
 * kept in Java arrays, so a probe outlives any PointerScope.
 */
public final class NeuralProbe implements Probe {

    /**
     * Settings of a fit. Build with {@link #builder}: the defaults are its field initialisers, also
     * readable as {@link #DEFAULTS}.
     *
     * @param epochs      passes over the training rows (default 100)
     * @param batch       rows per step (default 256)
     * @param lr          Adam step size (default 1e-3)
     * @param l2          penalty on the weights, not biases (default 1e-4)
     * @param hidden      MLP hidden width (default 512)
     * @param momentum    BatchNorm running-statistics momentum, as torch.nn.BatchNorm1d (default 0.1)
     * @param seed        initialisation and shuffle seed (default 0)
     */
    public record Settings(int epochs, int batch, double lr, double l2, int hidden, double momentum, long seed) {
        public Settings {
            if (epochs < 1) {
                throw InvalidInputException.field("epochs", "must be >= 1, got " + epochs);
            }
            if (batch < 2) {
                throw InvalidInputException.field("batch", "must be >= 2, got " + batch);
            }
            if (!(lr > 0) || Double.isInfinite(lr)) {
                throw InvalidInputException.field("lr", "must be finite and > 0, got " + lr);
            }
            if (!(l2 >= 0)) {
                throw InvalidInputException.field("l2", "must be >= 0, got " + l2);
            }
            if (hidden < 1) {
                throw InvalidInputException.field("hidden", "must be >= 1, got " + hidden);
            }
            if (!(momentum > 0 && momentum <= 1)) {
                throw InvalidInputException.field("momentum", "must be in (0, 1], got " + momentum);
            }
        }

        /** Every field at its default. */
        public static final Settings DEFAULTS = builder().build();

        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding these settings. */
        public Builder toBuilder() {
            return new Builder().epochs(epochs).batch(batch).lr(lr).l2(l2).hidden(hidden).momentum(momentum).seed(seed);
        }

        /** The fields with their defaults; every setter returns the builder; the record's constructor validates. */
        public static final class Builder {
            private int epochs = 100;
            private int batch = 256;
            private double lr = 1e-3;
            private double l2 = 1e-4;
            private int hidden = 512;
            private double momentum = 0.1;
            private long seed = 0;

            public Builder epochs(int v) { epochs = v; return this; }
            public Builder batch(int v) { batch = v; return this; }
            public Builder lr(double v) { lr = v; return this; }
            public Builder l2(double v) { l2 = v; return this; }
            public Builder hidden(int v) { hidden = v; return this; }
            public Builder momentum(double v) { momentum = v; return this; }
            public Builder seed(long v) { seed = v; return this; }

            public Settings build() {
                return new Settings(epochs, batch, lr, l2, hidden, momentum, seed);
            }
        }
    }

    private static final double BN_EPS = 1e-5;

    private final ProbeKind kind;
    private final int numClasses;
    private final int dim;
    private final float[] center;   // MLP: training mean; BN: running mean
    private final float[] scale;    // MLP: 1/std; BN: 1/sqrt(running var + eps)
    private final Map<String, float[]> params;
    private final Map<String, long[]> shapes;
    private final ProbeScoring.FitInfo info;

    private NeuralProbe(ProbeKind kind, int numClasses, int dim, float[] center, float[] scale,
                        Map<String, float[]> params, Map<String, long[]> shapes, ProbeScoring.FitInfo info) {
        this.kind = kind;
        this.numClasses = numClasses;
        this.dim = dim;
        this.center = center;
        this.scale = scale;
        this.params = params;
        this.shapes = shapes;
        this.info = info;
    }

    /** Fits a {@code bn-linear} or {@code mlp} probe on features x [N, C] with labels in [0, K). */
    public static NeuralProbe fit(Tensor x, long[] labels, int numClasses, ProbeKind kind, Settings s) {
        if (kind == ProbeKind.LINEAR) {
            throw new IllegalArgumentException("the linear probe is LogisticProbe");
        }
        if (x.dim() != 2 || x.size(0) != labels.length || labels.length < 2) {
            throw new IllegalArgumentException("features must be [N >= 2, C] with N labels, got "
                    + Arrays.toString(Tensors.shape(x)) + " and " + labels.length + " labels");
        }
        long t0 = System.nanoTime();
        int n = labels.length, c = (int) x.size(1), k = numClasses;
        Map<String, Tensor> p = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        float[] center, scale;
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(s.seed());
            Tensor xf = x.to(ScalarType.Float).contiguous();
            Tensor mean = xf.mean(new long[]{0}, false, null);
            Tensor var = xf.var(new long[]{0}, false, false);
            // MLP: standardise with the training statistics. BN: running statistics start at 0 and 1.
            Tensor runMean = kind == ProbeKind.BN_LINEAR ? torch.zeros(c) : mean;
            Tensor runVar = kind == ProbeKind.BN_LINEAR ? torch.ones(c) : var;
            if (kind == ProbeKind.MLP) {
                add(p, shapes, "w1", uniform(c, c, s.hidden()));
                add(p, shapes, "b1", uniform(c, s.hidden()));
                add(p, shapes, "w2", uniform(s.hidden(), s.hidden(), k));
                add(p, shapes, "b2", uniform(s.hidden(), k));
            } else {
                add(p, shapes, "w", uniform(c, c, k));
                add(p, shapes, "b", uniform(c, k));
            }
            for (Tensor t : p.values()) {
                t.requires_grad_(true);
            }
            AdamOptimizer adam = new AdamOptimizer(p);
            Tensor y = Tensors.fromLongs(labels);
            Random rng = new Random(s.seed());
            int[] order = new int[n];
            Arrays.setAll(order, i -> i);
            for (int epoch = 0; epoch < s.epochs(); epoch++) {
                shuffle(order, rng);
                for (int start = 0; start + 1 < n; start += s.batch()) {
                    int end = Math.min(n, start + s.batch());
                    if (end - start < 2) {
                        break;
                    }
                    try (PointerScope step = new PointerScope()) {
                        long[] idx = new long[end - start];
                        for (int i = 0; i < idx.length; i++) {
                            idx[i] = order[start + i];
                        }
                        Tensor rows = Tensors.fromLongs(idx);
                        Tensor xb = xf.index_select(0, rows);
                        Tensor z;
                        if (kind == ProbeKind.BN_LINEAR) {
                            Tensor bm = xb.mean(new long[]{0}, false, null);
                            Tensor bv = xb.var(new long[]{0}, false, false);
                            z = xb.sub(bm).mul(bv.add(new Scalar(BN_EPS)).rsqrt());
                            try (NoGradGuard g = new NoGradGuard()) {
                                double unbias = (double) idx.length / (idx.length - 1);
                                runMean.mul_(new Scalar(1 - s.momentum())).add_(bm, new Scalar(s.momentum()));
                                runVar.mul_(new Scalar(1 - s.momentum())).add_(bv, new Scalar(s.momentum() * unbias));
                            }
                        } else {
                            z = xb.sub(mean).mul(var.add(new Scalar(BN_EPS)).rsqrt());
                        }
                        Tensor logits = forward(kind, z, p);
                        Tensor loss = torch.cross_entropy_loss(logits, y.index_select(0, rows));
                        for (Map.Entry<String, Tensor> e : p.entrySet()) {
                            if (e.getKey().startsWith("w")) {
                                loss = loss.add(e.getValue().square().sum().mul(new Scalar(s.l2() / 2)));
                            }
                        }
                        loss.backward();
                        adam.step(s.lr());
                    }
                }
            }
            center = Tensors.toFloats(runMean);
            scale = Tensors.toFloats(runVar.add(new Scalar(BN_EPS)).rsqrt());
            Map<String, float[]> values = new LinkedHashMap<>();
            p.forEach((name, t) -> values.put(name, Tensors.toFloats(t.detach())));
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new NeuralProbe(kind, k, c, center, scale, values, shapes,
                    new ProbeScoring.FitInfo(s.l2(), false, s.epochs(), true, seconds));
        }
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    public ProbeKind kind() {
        return kind;
    }

    @Override
    public Tensor logits(Tensor x) {
        if (x.dim() != 2 || x.size(1) != dim) {
            throw new IllegalArgumentException("features must be [N, " + dim + "], got " + Arrays.toString(Tensors.shape(x)));
        }
        try (NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> p = new LinkedHashMap<>();
            params.forEach((name, v) -> p.put(name, Tensors.fromFloats(v, shapes.get(name))));
            Tensor z = x.to(ScalarType.Float).sub(Tensors.fromFloats(center)).mul(Tensors.fromFloats(scale));
            return forward(kind, z, p);
        }
    }

    @Override
    public ProbeScoring.FitInfo fitInfo() {
        return info;
    }

    private static Tensor forward(ProbeKind kind, Tensor z, Map<String, Tensor> p) {
        if (kind == ProbeKind.MLP) {
            Tensor h = torch.relu(z.matmul(p.get("w1")).add(p.get("b1")));
            return h.matmul(p.get("w2")).add(p.get("b2"));
        }
        return z.matmul(p.get("w")).add(p.get("b"));
    }

    /** As torch.nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
    private static Tensor uniform(long fanIn, long... shape) {
        double bound = 1 / Math.sqrt(fanIn);
        return torch.rand(shape).mul(new Scalar(2 * bound)).sub(new Scalar(bound));
    }

    private static void add(Map<String, Tensor> p, Map<String, long[]> shapes, String name, Tensor t) {
        Tensor c = t.contiguous();
        c.retainReference();
        p.put(name, c);
        shapes.put(name, Tensors.shape(c));
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
