package org.diffrep.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.io.Json;
import org.diffrep.ops.Threads;
import org.diffrep.ops.Tensors;
import org.diffrep.probe.LogisticProbe;
import org.diffrep.sae.SaeConfig;
import org.diffrep.sae.SaeEvaluation;
import org.diffrep.sae.PcaBaseline;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.SaeInput;
import org.diffrep.sae.SaeRows;
import org.diffrep.sae.StoreRows;
import org.diffrep.sae.SaeTrainer;
import org.diffrep.sae.TopKSae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.LongStream;

/**
 * {@code bench sae} (tools/bench-sae): training samples/s of {@link SaeTrainer} against the same SAE
 * written as a plain LibTorch loop (LibTorch topk instead of the native kernel, same loss, AuxK,
 * decoder constraint, Adam, initialisation and batches), on the same threads. Features: one layer
 * and sigma of a feature store ({@code --features DIR --layer L --sigma S}) or, by default, MNIST
 * pixels (784 values per image, real data). {@code --validate} also reports held-out FVU, L0 and
 * dead latents, and the accuracy of a logistic probe on the SAE codes against one on the raw features
 * (store split, or 80/20 for pixels).
 */
@Command(name = "sae", mixinStandardHelpOptions = true, versionProvider = Bench.Version.class,
        description = {"SAE training samples/s: diffrep's trainer (native top-k, sparse decode) against the same SAE "
                + "as a plain LibTorch loop (topk, dense decode), same threads, best of --reps alternating runs.",
                "Features: --features DIR --layer L --sigma S (a feature store) or --data SPEC --rows N "
                        + "(pixels, 80/20 split; default MNIST pixels of builtin:mnist); --tokens: every spatial "
                        + "position of a --pool none store's maps."})
public final class SaeBenchmark implements Callable<Integer> {

    @Mixin
    BenchOptions common;

    @Option(names = "--latents", paramLabel = "L", defaultValue = "4096",
            description = "Latents of the SAE (default: ${DEFAULT-VALUE}).")
    int latents;

    @Option(names = "--k", paramLabel = "K", defaultValue = "32",
            description = "Active latents per row (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--steps", paramLabel = "S", defaultValue = "200",
            description = "Training steps per run (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "256",
            description = "Rows per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--reps", paramLabel = "R", defaultValue = "2",
            description = "Alternating runs of both trainers; the best of each is reported (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--validate",
            description = "Also report held-out FVU, L0, dead latents and probe accuracy on raw rows against codes.")
    boolean validate;

    @Option(names = "--no-plain", description = "Time only diffrep's trainer, not the plain LibTorch loop.")
    boolean skipPlain;

    @Option(names = "--sae", paramLabel = "FILE",
            description = "Validate this trained SAE (safetensors) on the features; no training.")
    Path saeFile;

    @Option(names = "--data", paramLabel = "SPEC", defaultValue = "builtin:mnist",
            description = "Images whose pixels are the rows (default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--rows", paramLabel = "N", defaultValue = "10000",
            description = "At most this many images of --data (default: ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--features", paramLabel = "DIR", description = "A feature store instead of pixels.")
    Path features;

    @Option(names = "--layer", paramLabel = "L", description = "The store's layer (with --features).")
    String layer;

    @Option(names = "--sigma", paramLabel = "S", description = "The store's noise level (with --features).")
    Float sigma;

    @Option(names = "--tokens", description = "Tokens of a --pool none store (--features): each spatial position's "
            + "channels is a row, batches mixing images; both trainers read the same memory-mapped token batches.")
    boolean tokens;

    @Override
    public Integer call() throws Exception {
        if (latents < 1 || k < 1 || k > latents || steps < 1 || batch < 1 || reps < 1 || rows < 2) {
            throw new IllegalArgumentException("need --latents >= 1, 1 <= --k <= --latents, --steps, --batch and "
                    + "--reps >= 1, --rows >= 2");
        }
        common.applyThreads();
        if (tokens) {
            return tokenRun();
        }
        Tensor x;
        long[] labels, train, test;
        String source;
        if (features != null) {
            SaeFeatures in = SaeFeatures.open(features, layer, sigma, null);
            x = in.features();
            labels = in.store().labels();
            train = in.ids(true);
            test = in.ids(false);
            source = in.source();
        } else {
            Dataset d = DataSpec.open(data);
            int n = Math.min(rows, d.size());
            x = d.batch(LongStream.range(0, n).toArray()).images().reshape(n, -1).contiguous();
            x.retainReference();
            labels = new long[n];
            for (int i = 0; i < n; i++) {
                labels[i] = d.label(i);
            }
            train = LongStream.range(0, n * 4L / 5).toArray();
            test = LongStream.range(n * 4L / 5, n).toArray();
            source = data + " pixels";
        }
        SaeConfig config = SaeConfig.builder().inputDim((int) x.size(1)).latents(latents).k(k).steps(steps)
                .batch(batch).build();
        if (saeFile != null) {
            System.out.printf("bench-sae: validating %s on %s%n", saeFile, source);
            Map<String, Object> doc = new LinkedHashMap<>();
            validate(TopKSae.load(saeFile).sae(), x, labels, train, test, doc);
            common.writeJson(doc);
            return 0;
        }
        System.out.printf("bench-sae: %s, %d train rows x %d, %d latents, k %d, batch %d, %d steps, threads %d%n",
                source, train.length, x.size(1), latents, k, batch, steps, Threads.torchThreads());
        // Alternating runs, best of each: other processes' load hits both alike.
        SaeTrainer.Result ours = null;
        double plain = 0;
        for (int r = 0; r < reps; r++) {
            SaeTrainer.Result o = new SaeTrainer(config, null, 50).train(x, train, source);
            if (ours == null || o.samplesPerSecond() > ours.samplesPerSecond()) {
                ours = o;
            }
            if (!skipPlain) {
                // the same BLAS threading as SaeTrainer.train gives itself
                plain = Math.max(plain, Threads.withParallelBlas(() -> plainLoop(config, new StoreRows(x, train, source))));
            }
        }
        System.out.printf("%-22s %14s%n", "trainer", "samples/s");
        System.out.printf("%-22s %14.0f%n", "diffrep (native topk)", ours.samplesPerSecond());
        double ratio = skipPlain ? Double.NaN : ours.samplesPerSecond() / plain;
        if (!skipPlain) {
            System.out.printf("%-22s %14.0f%n", "plain LibTorch loop", plain);
            System.out.printf("ratio ours / plain: %.2fx%n", ratio);
        }

        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("source", source);
        doc.put("config", config);
        doc.put("threads", Threads.torchThreads());
        doc.put("ours_samples_per_second", ours.samplesPerSecond());
        doc.put("plain_samples_per_second", plain);
        doc.put("ratio", ratio);
        if (validate) {
            validate(ours.sae(), x, labels, train, test, doc);
        }
        common.writeJson(doc);
        return 0;
    }

    /**
     * Token mode: both trainers on the train images' tokens of a {@code --pool none} store (the same memory-mapped
     * batches), then with {@code --validate} held-out FVU, L0 and never-active latents on the test images' tokens
     * next to PCA-k's FVU (the probe on pooled codes is {@code sae encode} + {@code probe}).
     */
    private Integer tokenRun() throws Exception {
        if (features == null || layer == null) {
            throw new IllegalArgumentException("--tokens needs --features DIR (a --pool none store) --layer L --sigma S");
        }
        SaeInput in = SaeInput.tokens(SaeFeatures.open(features, layer, sigma, sigma == null ? 0 : null));
        SaeRows train = in.train();
        SaeConfig config = SaeConfig.builder().inputDim(train.width()).latents(latents).k(k).steps(steps).batch(batch)
                .build();
        System.out.printf("bench-sae: %s, %d train tokens x %d, %d latents, k %d, k_aux %d, batch %d, %d steps, threads %d%n",
                train.source(), train.count(), train.width(), latents, k, config.kAux(), batch, steps,
                Threads.torchThreads());
        SaeTrainer.Result ours = null;
        double plain = 0;
        for (int r = 0; r < reps; r++) {
            SaeTrainer.Result o = new SaeTrainer(config, null, 50).train(train);
            if (ours == null || o.samplesPerSecond() > ours.samplesPerSecond()) {
                ours = o;
            }
            if (!skipPlain) {
                plain = Math.max(plain, Threads.withParallelBlas(() -> plainLoop(config, train)));
            }
        }
        System.out.printf("%-22s %14s%n", "trainer", "tokens/s");
        System.out.printf("%-22s %14.0f%n", "diffrep (native topk)", ours.samplesPerSecond());
        double ratio = skipPlain ? Double.NaN : ours.samplesPerSecond() / plain;
        if (!skipPlain) {
            System.out.printf("%-22s %14.0f%n", "plain LibTorch loop", plain);
            System.out.printf("ratio ours / plain: %.2fx%n", ratio);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("source", train.source());
        doc.put("tokens", true);
        doc.put("config", config);
        doc.put("threads", Threads.torchThreads());
        doc.put("ours_samples_per_second", ours.samplesPerSecond());
        doc.put("plain_samples_per_second", plain);
        doc.put("ratio", ratio);
        if (validate && in.test() != null) {
            SaeEvaluation ev = SaeEvaluation.of(ours.sae(), in.test(), 4096);
            Tensor sample = train.sample(65_536, new Random(1));
            double pca = PcaBaseline.fit(sample).fvu(in.test(), new int[]{k}, 4096)[0];
            System.out.printf("held-out tokens: FVU %.4f (PCA-%d %.4f)  L0 %.2f  never active %.2f%%  dead in window %.2f%% "
                    + "(%d rows)%n", ev.fvu(), k, pca, ev.l0(), 100 * ev.deadFraction(), 100 * ours.deadInWindow(), ev.rows());
            doc.put("test_fvu", ev.fvu());
            doc.put("test_pca_fvu", pca);
            doc.put("test_l0", ev.l0());
            doc.put("never_active_test", ev.deadFraction());
            doc.put("dead_in_training_window", ours.deadInWindow());
        }
        common.writeJson(doc);
        return 0;
    }

    /** Held-out FVU, L0, dead latents and probe accuracy on raw rows versus codes, printed and put in doc. */
    private static void validate(TopKSae sae, Tensor x, long[] labels, long[] train, long[] test, Map<String, Object> doc) {
        SaeEvaluation ev = SaeEvaluation.of(sae, x, test, 1024);
        System.out.printf("held-out: FVU %.4f  L0 %.2f  dead %.2f%% (%d rows)%n", ev.fvu(), ev.l0(),
                100 * ev.deadFraction(), ev.rows());
        SaeEvaluation all = SaeEvaluation.of(sae, x, LongStream.range(0, x.size(0)).toArray(), 1024);
        System.out.printf("all rows: FVU %.4f  L0 %.2f  dead %.2f%%%n", all.fvu(), all.l0(), 100 * all.deadFraction());
        double raw = probe(x, labels, train, test, null);
        double codes = probe(x, labels, train, test, sae);
        System.out.printf("probe accuracy (test): raw %.4f, SAE codes %.4f%n", raw, codes);
        doc.put("test_fvu", ev.fvu());
        doc.put("test_l0", ev.l0());
        doc.put("dead_fraction_all_rows", all.deadFraction());
        doc.put("probe_raw", raw);
        doc.put("probe_codes", codes);
    }

    /** Test accuracy of a logistic probe (fixed L2) on the raw rows or on their SAE codes. */
    private static double probe(Tensor x, long[] labels, long[] train, long[] test, TopKSae sae) {
        try (PointerScope scope = new PointerScope()) {
            Tensor tr = rows(x, train, sae), te = rows(x, test, sae);
            long[] ytr = LongStream.of(train).map(i -> labels[(int) i]).toArray();
            long[] yte = LongStream.of(test).map(i -> labels[(int) i]).toArray();
            int classes = (int) LongStream.of(labels).max().orElse(0) + 1;
            LogisticProbe p = LogisticProbe.fit(tr, ytr, classes, LogisticProbe.Settings.builder().l2(1e-4).build());
            return p.evaluate(te, yte).accuracy();
        }
    }

    private static Tensor rows(Tensor x, long[] ids, TopKSae sae) {
        Tensor out = null;
        for (int s = 0; s < ids.length; s += 1024) {
            Tensor r = rows(x, ids, s, Math.min(1024, ids.length - s));
            if (sae != null) {
                try (NoGradGuard g = new NoGradGuard()) {
                    r = sae.encode(r).dense().detach();
                }
            }
            out = out == null ? r : torch.cat(new org.bytedeco.pytorch.TensorArrayRef(new TensorVector(out, r)), 0);
        }
        return out;
    }

    /**
     * The same SAE as a plain LibTorch loop: LibTorch topk (values carry the gradient), a dead-latent
     * counter tensor, identical loss, decoder constraint, Adam with warm-up, initialisation and batches.
     */
    static double plainLoop(SaeConfig c, SaeRows rows) {
        // The initialisation SaeTrainer starts from, with the same Random, which then shuffles the same batches.
        Random rng = new Random(c.seed());
        TopKSae sae = new SaeTrainer(c, null, 1).initialSae(rows, rng);
        SaeRows.Cursor batches = rows.cursor();
        float scale = sae.inputScale();
        Tensor[] p = sae.parameters();
        Tensor wEnc = p[0], bEnc = p[1], bDec = p[3];
        // the usual dense layout, W_dec [D, L] as in nn.Linear
        Tensor wDec = sae.decoder().requires_grad_(true);
        wDec.retainReference();
        Adam adam = new Adam(new TensorVector(wEnc, bEnc, wDec, bDec), new AdamOptions(c.lr()));
        Tensor sinceFired = torch.zeros(c.latents());
        sinceFired.retainReference();
        long start = System.nanoTime();
        for (int step = 0; step < c.steps(); step++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor x = batches.next(c.batch(), rng).mul(new Scalar(scale));
                long n = x.size(0);
                adam.param_groups().get(0).options().set_lr(c.lrAt(step));
                adam.zero_grad();
                Tensor pre = torch.linear(x.sub(bDec), wEnc, new TensorOptional(bEnc));
                if (c.relu()) {
                    pre = pre.relu();
                }
                T_TensorTensor_T top = pre.topk(c.k(), 1, true, true);
                Tensor z = torch.zeros_like(pre).scatter(1, top.get1(), top.get0());
                Tensor xHat = torch.linear(z, wDec, new TensorOptional(bDec));
                Tensor loss = xHat.sub(x).square().sum().div(x.sub(x.mean(new long[]{0}, true, null)).square().sum());
                Tensor dead = sinceFired.ge(new Scalar((double) c.deadAfter()));
                long numDead = dead.sum().item_long();
                if (numDead > 0 && c.kAux() > 0 && c.auxkAlpha() > 0) {
                    Tensor e = x.sub(xHat).detach();
                    Tensor masked = torch.where(dead, pre, new Scalar(Double.NEGATIVE_INFINITY));
                    T_TensorTensor_T auxTop = masked.topk(Math.min(c.kAux(), numDead), 1, true, true);
                    Tensor zAux = torch.zeros_like(pre).scatter(1, auxTop.get1(), auxTop.get0());
                    Tensor aux = torch.linear(zAux, wDec).sub(e).square().sum()
                            .div(e.sub(e.mean(new long[]{0}, true, null)).square().sum());
                    loss = loss.add(aux.mul(new Scalar(c.auxkAlpha())));
                }
                loss.backward();
                try (NoGradGuard g = new NoGradGuard()) {
                    Tensor grad = wDec.grad();
                    grad.sub_(grad.mul(wDec).sum(new long[]{0}, true, null).mul(wDec));
                    adam.step();
                    wDec.div_(wDec.square().sum(new long[]{0}, true, null).sqrt().clamp_min(new Scalar(1e-12)));
                    Tensor fired = z.ne(new Scalar(0)).any(0);
                    sinceFired.add_(new Scalar(n));
                    sinceFired.mul_(fired.logical_not());
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return (double) c.steps() * c.batch() / seconds;
    }

    /** Rows ids[start .. start+n) of features as a contiguous tensor, as SaeTrainer takes its batches. */
    private static Tensor rows(Tensor features, long[] ids, int start, int n) {
        return features.index_select(0, Tensors.fromLongs(java.util.Arrays.copyOfRange(ids, start, start + n))).contiguous();
    }
}
