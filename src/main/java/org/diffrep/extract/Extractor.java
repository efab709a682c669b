package org.diffrep.extract;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Batch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.data.Split;
import org.diffrep.io.Hashes;
import org.diffrep.io.Npy.DType;
import org.diffrep.model.Denoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.noise.Seeds;
import org.diffrep.ops.Kernels;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import org.diffrep.ops.UserKernelException;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Extracts features of a denoiser at chosen taps and noise levels into a feature store.
 *
 * <p>Per batch: the noise of all sigmas comes from one {@link Kernels#noiseInject} call (ids =
 * dataset indices, so a sample's noise never depends on the batch); the sigma copies are stacked
 * into forwards of {@code forwardRows} rows (images x sigmas); the network stops at the deepest tap;
 * the maps are pooled (and top-k selected) by the native kernels. Every (image, sigma) row goes
 * through a forward of the same size at the same position whatever the batch size (see
 * {@link #processBatch}), so on one machine and thread count features do not depend on the batch
 * size; batches are cut inside fixed shards, so a resumed run computes exactly the batches an
 * uninterrupted one would.
 */
public final class Extractor {

    /** Hooks called on the compute thread; tests use them to stop a run at a chosen point. */
    public interface Listener {
        /** After a batch's features were appended to its shard ({@code done}: images so far in this run). */
        default void afterBatch(int shard, long done) {
        }

        /** After shard {@code shard} was renamed into place. */
        default void afterShard(int shard) {
        }
    }

    private final ExtractConfig cfg;
    /** Per tap, its reduction: the configured pool, or what {@link ExtractConfig#reduce} names. */
    private final Map<String, Reductions.Selected> reductions = new LinkedHashMap<>();
    private Listener listener = new Listener() {
    };
    private PrintStream log = System.err;
    private ShardWriter.FileOpener shardFiles = ShardWriter.NEW_FILE;
    private boolean progress = System.console() != null;

    public Extractor(ExtractConfig cfg) {
        this.cfg = cfg;
    }

    public Extractor listener(Listener l) {
        this.listener = l;
        return this;
    }

    /** Tests only: how shard files are opened (a real ENOSPC from /dev/full, see {@link ShardWriter.FileOpener}). */
    Extractor shardFiles(ShardWriter.FileOpener opener) {
        this.shardFiles = opener;
        return this;
    }

    /** Where progress and the summary go (default stderr); null for silence. */
    public Extractor log(PrintStream out) {
        this.log = out;
        this.progress = out != null && out == System.err && System.console() != null;
        return this;
    }

    /** sha256 of a model file, as recorded in the manifest. */
    public static String fileId(Path file) {
        try {
            return Hashes.sha256Id(file);
        } catch (IOException e) {
            throw InvalidInputException.field("model", file + ": cannot read: " + e.getMessage());
        }
    }

    /** Loads the model file and the dataset of the configuration, then runs {@link #run(Denoiser, String, Dataset)}. */
    public ExtractSummary run() {
        if (cfg.model() == null || cfg.data() == null) {
            throw InvalidInputException.fields("{model} and {data} are required", "model", "data");
        }
        Dataset data = DataSpec.open(cfg.data());
        Denoiser model = ModelFiles.load(cfg.model());
        return run(model, fileId(cfg.model()), data);
    }

    /**
     * Runs the extraction with a model and dataset already in memory.
     *
     * @param modelId identifies the model's weights in the manifest (use {@link #fileId} for a file)
     */
    public ExtractSummary run(Denoiser model, String modelId, Dataset data) {
        long start = System.nanoTime();
        if (cfg.threads() > 0) {
            Threads.set(cfg.threads());
        }
        checkModelAndData(model, data);
        chooseReductions();
        model.train(false);
        Split split = Split.choose(data, cfg.trainFrac(), cfg.seed());
        long[] all = select(data, split);
        if (all.length == 0) {
            throw InvalidInputException.fields("{data} " + InvalidInputException.literal(cfg.data())
                    + ": no images left after {split} " + cfg.split().id()
                    + (cfg.limit() > 0 ? " and {limit} " + cfg.limit() : ""), "data", "split", "limit");
        }
        // A partition computes ranks [base, base + selected.length) of the run's selection; every row keeps its
        // global rank (processBatch), so its bytes are those of the same rows of a one-process run.
        Partition part = cfg.partition();
        long base = part == null ? 0 : part.first(all.length);
        long[] selected = part == null ? all : Arrays.copyOfRange(all, (int) base, (int) part.end(all.length));
        if (selected.length == 0) {
            throw InvalidInputException.field("partition", part + " of " + all.length
                    + " selected images is empty; use at most " + all.length + " partitions");
        }
        byte[] splitMask = split.mask();
        Map<String, StoreManifest.LayerShape> shapes = probeShapes(model, data, selected[0]);
        StoreSettings settings = settings(modelId, data.source(), selected.length, part == null ? null
                : new StoreSettings.PartitionRange(part.index(), part.count(), base, all.length));
        StoreWriter store = StoreWriter.open(cfg.out(), settings, cfg.resume());
        store.shardFiles(shardFiles);
        Timings t = new Timings();
        if (store.alreadyComplete()) {
            try {
                store.removeShards();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (log != null) {
                log.println("extract: " + cfg.out() + " is already complete; nothing to do");
            }
            return summary(selected.length, 0, t, start);
        }
        int shards = (int) ((selected.length + (long) cfg.shardSize() - 1) / cfg.shardSize());
        List<long[]> batches = new ArrayList<>();
        List<Integer> batchShard = new ArrayList<>();
        List<Long> batchFirst = new ArrayList<>();
        long todo = 0;
        for (int s = 0; s < shards; s++) {
            if (store.hasShard(s)) {
                continue;
            }
            int from = s * cfg.shardSize(), to = Math.min(selected.length, from + cfg.shardSize());
            for (int b = from; b < to; b += cfg.batch()) {
                batches.add(Arrays.copyOfRange(selected, b, Math.min(to, b + cfg.batch())));
                batchShard.add(s);
                batchFirst.add(base + b);
            }
            todo += to - from;
        }
        long done = 0;
        try (InferenceMode guard = new InferenceMode();
             Prefetcher prefetch = new Prefetcher(data, batches, cfg.decodeThreads());
             ProgressBar bar = progress ? new ProgressBarBuilder().setTaskName("extract").setInitialMax(todo)
                     .setUnit(" img", 1).showSpeed().setStyle(ProgressBarStyle.ASCII).setConsumer(
                             new me.tongfei.progressbar.ConsoleProgressBarConsumer(log)).build() : null) {
            ShardWriter shard = null;
            int current = -1;
            try {
                for (int i = 0; i < batches.size(); i++) {
                    int s = batchShard.get(i);
                    if (s != current) {
                        long rows = Math.min(selected.length, (long) (s + 1) * cfg.shardSize()) - (long) s * cfg.shardSize();
                        long io0 = System.nanoTime();
                        shard = store.beginShard(s, rows);
                        t.io += System.nanoTime() - io0;
                        current = s;
                    }
                    long w0 = System.nanoTime();
                    Batch b = prefetch.next();
                    t.wait += System.nanoTime() - w0;
                    try (PointerScope scope = new PointerScope()) {
                        scope.attach(b.images());
                        scope.attach(b.labels());
                        processBatch(model, b, batchFirst.get(i), splitMask, shard, t);
                    }
                    done += b.indices().length;
                    if (bar != null) {
                        bar.stepBy(b.indices().length);
                    }
                    listener.afterBatch(s, done);
                    boolean lastOfShard = i + 1 == batches.size() || batchShard.get(i + 1) != s;
                    if (lastOfShard) {
                        long io0 = System.nanoTime();
                        shard.commit();
                        shard = null;
                        t.io += System.nanoTime() - io0;
                        if (bar == null && log != null) {
                            log.printf("extract: shard %d/%d written, %d/%d images this run (%.0f images/s)%n",
                                    s + 1, shards, done, todo, done / ((System.nanoTime() - start) / 1e9));
                        }
                        listener.afterShard(s);
                    }
                }
            } finally {
                if (shard != null) {
                    shard.close();
                }
            }
            long io0 = System.nanoTime();
            store.finish(shards, shapes);
            t.io += System.nanoTime() - io0;
            t.data = prefetch.readSeconds();
        } catch (IOException e) {
            throw new UncheckedIOException("writing the feature store in " + cfg.out() + " failed: "
                    + StoreWriter.describe(e) + "; nothing was marked complete: free space or fix permissions"
                    + " and rerun with resume", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("extraction interrupted; rerun with resume", e);
        }
        ExtractSummary sum = summary(selected.length, done, t, start);
        if (log != null) {
            log.println(sum.line());
        }
        return sum;
    }

    /**
     * Noise, stacked forwards, pooling and the shard writes for one batch.
     *
     * <p>Row layout: the run's selected images form one sample-major stream of (image, sigma)
     * rows, image of rank g and sigma j at global row {@code g*S + j}, and that stream is cut into
     * forwards of exactly {@code forwardRows} rows at fixed global boundaries. A row therefore
     * always sits at the same position of a forward of the same size, whatever the batch size, the
     * shard or where a resumed run starts: GEMM and convolution kernels choose their tiling by
     * shape and some round by a row's position in the tile (OpenBLAS's AVX2 kernels do), so
     * shape and position are what must not change. A forward that straddles two batches is run
     * once for each, with the other batch's rows left as zeros; its rows of this batch are the
     * same either way.
     *
     * @param first rank of the batch's first image among the run's selected images (for a partition, its rank
     *              in the whole run, not in the partition)
     */
    private void processBatch(Denoiser model, Batch b, long first, byte[] splitMask, ShardWriter shard, Timings t)
            throws IOException {
        long[] ids = b.indices();
        int n = ids.length;
        float[] sigmas = cfg.sigmas();
        int s = sigmas.length;
        long rows = (long) s * n;
        int f = cfg.forwardRows();
        Tensor x = b.images().contiguous();
        Tensor idT = Tensors.fromLongs(ids);
        Set<String> taps = new LinkedHashSet<>(cfg.layers());
        boolean clean = cfg.input() == InputMode.CLEAN;
        int draws = clean ? 1 : cfg.noiseDraws();
        long rowFrom = first * s, rowTo = rowFrom + rows;

        Map<String, Tensor[]> acc = new LinkedHashMap<>();
        for (int r = 0; r < draws; r++) {
            // Noise for all sigmas of the batch in one kernel call: [S, n, ...], eps keyed by (seed_r, id, j);
            // then sample-major [n*S, ...] so that rows follow the global layout.
            long f0 = System.nanoTime();
            Tensor noisy = Kernels.noiseInject(x, sigmas, null, idT, drawSeed(r), clean);
            long[] inShape = Tensors.shape(noisy);
            long[] flatShape = new long[inShape.length - 1];
            flatShape[0] = rows;
            System.arraycopy(inShape, 2, flatShape, 1, flatShape.length - 1);
            Tensor all = noisy.transpose(0, 1).contiguous().reshape(flatShape);
            t.forward += System.nanoTime() - f0;
            Map<String, List<Tensor[]>> pieces = new LinkedHashMap<>();
            for (long q0 = Math.floorDiv(rowFrom, f) * f; q0 < rowTo; q0 += f) {
                long a = Math.max(q0, rowFrom), e = Math.min(q0 + f, rowTo);
                int lead = (int) (a - q0), len = (int) (e - a), tail = (int) (q0 + f - e);
                long fa = System.nanoTime();
                Tensor in = all.narrow(0, a - rowFrom, len);
                if (lead > 0 || tail > 0) {
                    TensorVector parts = new TensorVector();
                    if (lead > 0) {
                        parts.push_back(zeros(flatShape, lead, in));
                    }
                    parts.push_back(in);
                    if (tail > 0) {
                        parts.push_back(zeros(flatShape, tail, in));
                    }
                    in = torch.cat(parts, 0);
                }
                float[] sig = new float[f];
                for (int p = 0; p < f; p++) {
                    sig[p] = sigmas[(int) Math.floorMod(q0 + p, (long) s)];
                }
                Denoiser.Output out = model.forward(in, Tensors.fromFloats(sig), taps, false);
                t.forward += System.nanoTime() - fa;
                long pa = System.nanoTime();
                for (String layer : cfg.layers()) {
                    Tensor tap = out.taps().get(layer);
                    Tensor mine = len < f ? tap.narrow(0, lead, len) : tap;
                    pieces.computeIfAbsent(layer, k -> new ArrayList<>()).add(pool(layer, mine));
                }
                t.pool += System.nanoTime() - pa;
            }
            long pa = System.nanoTime();
            for (String layer : cfg.layers()) {
                Tensor[] pooled = concat(pieces.get(layer));
                Tensor[] sum = acc.get(layer);
                if (sum == null) {
                    acc.put(layer, pooled);
                } else {
                    for (int k = 0; k < sum.length; k++) {
                        if (sum[k] != null) {
                            sum[k].add_(pooled[k]);
                        }
                    }
                }
            }
            t.pool += System.nanoTime() - pa;
        }
        if (draws > 1) {
            for (Tensor[] sum : acc.values()) {
                for (Tensor a : sum) {
                    if (a != null) {
                        a.div_(new Scalar((double) draws));
                    }
                }
            }
        }
        for (int j = 0; j < s; j++) {
            for (String layer : cfg.layers()) {
                writeSigma(shard, layer, j, sigmaRows(acc.get(layer), n, s, j), n, ids, t);
            }
        }
        long io0 = System.nanoTime();
        long[] labels = Tensors.toLongs(b.labels());
        ByteBuffer lb = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer ib = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer sb = ByteBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
            lb.putLong(labels[i]);
            ib.putLong(ids[i]);
            sb.put(splitMask[(int) ids[i]]);
        }
        shard.append(StoreLayout.LABELS, DType.INT64, new long[0], n, lb.flip());
        shard.append(StoreLayout.INDICES, DType.INT64, new long[0], n, ib.flip());
        shard.append(StoreLayout.SPLIT, DType.UINT8, new long[0], n, sb.flip());
        t.io += System.nanoTime() - io0;
    }

    /** Zero rows to pad a forward: {@code count} rows of the input's row shape. */
    private static Tensor zeros(long[] flatShape, int count, Tensor like) {
        long[] shape = flatShape.clone();
        shape[0] = count;
        return torch.zeros(shape, like.options());
    }

    /** Rows of sigma j (every S-th row from j) of each pooled tensor of a batch in sample-major order. */
    private static Tensor[] sigmaRows(Tensor[] pooled, int n, int s, int j) {
        Tensor[] out = new Tensor[pooled.length];
        for (int k = 0; k < pooled.length; k++) {
            if (pooled[k] != null) {
                out[k] = pooled[k].reshape(n, s, -1).select(1, j).contiguous();
            }
        }
        return out;
    }

    /**
     * Reduces one tap [M, C, H, W] (or [M, C]) into {mean or the reduction's rows, max or null, flattened map or
     * null, top-k values or null, top-k indices or null}. A built-in pool runs the native kernels (with top-k and
     * mean pooling of one draw, the fused pool+top-k kernel gives the mean and the top-k); any other reduction
     * gives the rows, whose top-k (if asked for) {@link #writeSigma} takes.
     */
    private Tensor[] pool(String layer, Tensor tap) {
        // float32, as the kernels take it: a TorchScript model may return its taps in another float type
        Tensor m = tap.to(torch.ScalarType.Float).contiguous();
        long rowsM = m.size(0);
        Pooling pooling = reductions.get(layer).builtin();
        if (pooling == null) {
            return new Tensor[]{userRows(layer, m), null, null, null, null};
        }
        Tensor maps = m.dim() == 2 ? m.reshape(rowsM, m.size(1), 1) : m;
        Tensor flat = pooling == Pooling.NONE ? m.reshape(rowsM, -1).clone() : null;
        boolean fused = pooling == Pooling.MEAN && cfg.topk() > 0 && cfg.noiseDraws() == 1;
        if (fused) {
            Kernels.PooledTopK pt = Kernels.poolTopk(maps, cfg.topk(), Kernels.Rank.VALUE, true);
            return new Tensor[]{pt.mean(), null, flat, pt.topk().values(), pt.topk().indices()};
        }
        Kernels.Pooled p = Kernels.pool(maps, pooling == Pooling.MEAN_MAX, false, 0f);
        return new Tensor[]{p.mean(), p.max(), flat, null, null};
    }

    /** The rows of a user's reduction for maps m [M, ...], checked to be float32 [M, F] on m's device. */
    private Tensor userRows(String layer, Tensor m) {
        Reductions.Selected sel = reductions.get(layer);
        Tensor rows;
        try {
            rows = sel.reduction().reduce(m);
        } catch (UserKernelException e) {
            throw KernelFileReduction.asInput(e, sel.record().toString());
        } catch (InvalidInputException e) {
            throw e;
        } catch (RuntimeException e) {
            // the user's code, not diffrep: one line naming it (exit 1), not "a bug in diffrep"
            throw new UserKernelException(UserKernelException.Kind.FAILED, "the reduction " + sel.record()
                    + " of layer " + layer + " failed: " + (e.getMessage() == null ? e.toString()
                    : e.getMessage().lines().findFirst().orElse("").strip()), null, e);
        }
        long f = sel.reduction().rowLength(KernelFileReduction.mapShape(m));
        if (rows == null || rows.isNull() || !rows.defined() || rows.dim() != 2 || rows.size(0) != m.size(0)
                || rows.size(1) != f || rows.scalar_type().value != torch.ScalarType.Float.value
                || rows.is_cuda() != m.is_cuda()) {
            throw new UserKernelException(UserKernelException.Kind.FAILED, "the reduction " + sel.record()
                    + " of layer " + layer + " returned "
                    + (rows == null || rows.isNull() || !rows.defined() ? "no tensor" : rows.scalar_type() + " "
                    + Arrays.toString(Tensors.shape(rows)) + (rows.is_cuda() ? " on a GPU" : " on the CPU"))
                    + "; expected Float [" + m.size(0) + ", " + f + "] on the maps' device");
        }
        return rows.contiguous();
    }

    /** Resolves each tap's reduction (the registry is loaded only when a tap names one) before any work. */
    private void chooseReductions() {
        reductions.clear();
        Reductions registry = cfg.reduce().isEmpty() && cfg.kernelFiles().isEmpty() ? null
                : Reductions.load(cfg.kernelFiles());
        for (String layer : cfg.layers()) {
            String name = cfg.reduce().get(layer);
            Reductions.Selected sel = registry == null || name == null
                    ? new Reductions.Selected(new BuiltinReduction(cfg.pool()),
                    new ReductionRecord(cfg.pool().id(), "builtin", null, null), cfg.pool())
                    : registry.select(name, layer);
            if (sel.reduction() instanceof KernelFileReduction.Cuda cuda) {
                try {
                    cuda.prepare();
                } catch (UserKernelException e) {
                    throw KernelFileReduction.asInput(e, sel.record().toString());
                }
            }
            reductions.put(layer, sel);
        }
    }

    /** Concatenates the pooled pieces of one layer along the rows. */
    private static Tensor[] concat(List<Tensor[]> pieces) {
        if (pieces.size() == 1) {
            return pieces.get(0);
        }
        Tensor[] out = new Tensor[pieces.get(0).length];
        for (int k = 0; k < out.length; k++) {
            if (pieces.get(0)[k] == null) {
                continue;
            }
            TensorVector v = new TensorVector();
            for (Tensor[] p : pieces) {
                v.push_back(p[k]);
            }
            out[k] = torch.cat(v, 0);
        }
        return out;
    }

    private void writeSigma(ShardWriter shard, String layer, int sigmaIndex, Tensor[] pooled, int n,
                            long[] ids, Timings t) throws IOException {
        long pa = System.nanoTime();
        Tensor mean = pooled[0];
        Tensor featureRows = reductions.get(layer).builtin() == Pooling.NONE ? pooled[2] : mean;
        Tensor max = pooled[1];
        Tensor values = null, indices = null;
        if (cfg.topk() > 0) {
            if (pooled[3] != null) {
                values = pooled[3];
                indices = pooled[4];
            } else {
                Kernels.TopK tk = Kernels.topk(mean, cfg.topk(), Kernels.Rank.VALUE);
                values = tk.values();
                indices = tk.indices();
            }
        }
        ByteBuffer fb = bytes(featureRows);
        checkFinite(fb, n, featureRows.size(1), ids, layer, sigmaIndex);
        ByteBuffer mb = max == null ? null : bytes(max);
        if (mb != null) {
            checkFinite(mb, n, max.size(1), ids, layer, sigmaIndex);
        }
        t.pool += System.nanoTime() - pa;
        long io0 = System.nanoTime();
        shard.append(StoreLayout.features(layer, sigmaIndex), DType.FLOAT32, new long[]{featureRows.size(1)}, n, fb);
        if (mb != null) {
            shard.append(StoreLayout.featuresMax(layer, sigmaIndex), DType.FLOAT32, new long[]{max.size(1)}, n, mb);
        }
        if (values != null) {
            long k = cfg.topk();
            shard.append(StoreLayout.topkValues(layer, sigmaIndex), DType.FLOAT32, new long[]{k}, n, bytes(values));
            shard.append(StoreLayout.topkIndices(layer, sigmaIndex), DType.INT64, new long[]{k}, n, bytes(indices));
        }
        t.io += System.nanoTime() - io0;
    }

    /** The bytes of a contiguous CPU tensor (little-endian on every platform LibTorch runs on here). */
    private static ByteBuffer bytes(Tensor c) {
        long size = c.numel() * c.element_size();
        return new BytePointer(c.data_ptr()).capacity(size).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private void checkFinite(ByteBuffer b, int n, long cols, long[] ids, String layer, int sigmaIndex) {
        FloatBuffer f = b.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        List<Long> bad = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (long c = 0; c < cols; c++) {
                if (!Float.isFinite(f.get((int) (i * cols + c)))) {
                    bad.add(ids[i]);
                    break;
                }
            }
        }
        if (!bad.isEmpty()) {
            throw new NonFiniteFeatureException(bad, layer, sigmaIndex, cfg.sigmas()[sigmaIndex]);
        }
    }

    /** Seed of noise draw r: the run's seed for the first, derived streams for the others. */
    private long drawSeed(int r) {
        return r == 0 ? cfg.seed() : Seeds.derive(cfg.seed(), r);
    }

    private void checkModelAndData(Denoiser model, Dataset data) {
        List<String> available = model.taps();
        for (String layer : cfg.layers()) {
            if (!available.contains(layer)) {
                throw InvalidInputException.field("layers", ": unknown layer '" + layer + "'; the model has "
                        + String.join(", ", available));
            }
        }
        long[] dataShape = Arrays.stream(data.imageShape()).asLongStream().toArray();
        long[] modelShape = model.inputShape();
        if (!Arrays.equals(dataShape, modelShape)) {
            throw InvalidInputException.field("data", cfg.data() + ": images are " + Arrays.toString(dataShape)
                    + " but the model" + (cfg.model() == null ? "" : " " + cfg.model()) + " takes "
                    + Arrays.toString(modelShape));
        }
        // Sizes of the per-batch tensors, checked before any work: a typo in batch or forwardRows must not
        // end in an allocation failure deep inside LibTorch.
        long perImage = 4L * data.sampleSize();
        long images = Math.min(cfg.batch(), Math.min(cfg.shardSize(), data.size()));
        long batchBytes = images * cfg.sigmas().length * perImage;
        if (batchBytes > MAX_BATCH_BYTES) {
            throw InvalidInputException.fields("{batch} " + cfg.batch() + ": " + images + " images x "
                    + cfg.sigmas().length + " sigmas x " + perImage + " bytes = " + batchBytes
                    + " bytes of noisy input per batch; expected at most " + MAX_BATCH_BYTES + " (4 GiB): lower {batch}",
                    "batch");
        }
        long forwardBytes = (long) cfg.forwardRows() * perImage;
        if (forwardBytes > MAX_BATCH_BYTES) {
            throw InvalidInputException.fields("{forwardRows} " + cfg.forwardRows() + ": " + forwardBytes
                    + " bytes of input per forward; expected at most " + MAX_BATCH_BYTES + " (4 GiB): lower {forwardRows}",
                    "forwardRows");
        }
    }

    /** The largest noisy-input tensor of one batch, and of one forward. */
    static final long MAX_BATCH_BYTES = 4L << 30;

    /** Indices of the images to extract: those of the chosen split part, ascending, at most limit. */
    private long[] select(Dataset data, Split split) {
        long[] out = new long[data.size()];
        int k = 0;
        for (int i = 0; i < data.size() && (cfg.limit() == 0 || k < cfg.limit()); i++) {
            if (cfg.split().takes(split.isTrain(i))) {
                out[k++] = i;
            }
        }
        return Arrays.copyOf(out, k);
    }

    /** One forward of one image gives each tap's map shape, and checks top-k against the channel count. */
    private Map<String, StoreManifest.LayerShape> probeShapes(Denoiser model, Dataset data, long index) {
        Map<String, StoreManifest.LayerShape> shapes = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            Batch b = data.batch(new long[]{index});
            Denoiser.Output out = model.forward(b.images(), Tensors.fromFloats(new float[]{cfg.sigmas()[0]}),
                    new LinkedHashSet<>(cfg.layers()), false);
            for (String layer : cfg.layers()) {
                long[] shape = Tensors.shape(out.taps().get(layer));
                List<Long> map = new ArrayList<>();
                long flat = 1;
                for (int i = 1; i < shape.length; i++) {
                    map.add(shape[i]);
                    flat *= shape[i];
                }
                long channels = shape[1];
                Reductions.Selected sel = reductions.get(layer);
                if (sel.builtin() == null) {
                    long f = userRowLength(sel, layer, map);
                    if (cfg.topk() > f) {
                        throw InvalidInputException.field("topk", cfg.topk() + " exceeds the row length " + f
                                + " of reduction " + sel.record().name() + " for layer " + layer);
                    }
                    shapes.put(layer, new StoreManifest.LayerShape(map, f));
                    continue;
                }
                if (cfg.topk() > channels) {
                    throw InvalidInputException.field("topk", cfg.topk() + " exceeds the " + channels
                            + " channels of layer " + layer);
                }
                shapes.put(layer, new StoreManifest.LayerShape(map, sel.builtin() == Pooling.NONE ? flat : channels));
            }
        }
        return shapes;
    }

    /** F of a user's reduction for a map shape: a refused shape or a missing kernel is the user's input error. */
    private static long userRowLength(Reductions.Selected sel, String layer, List<Long> map) {
        long f;
        try {
            f = sel.reduction().rowLength(map);
        } catch (UserKernelException e) {
            throw KernelFileReduction.asInput(e, sel.record().toString());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw InvalidInputException.field("reduce", ": the reduction " + sel.record() + " cannot take layer "
                    + layer + " of shape " + map + ": " + e.getMessage());
        }
        if (f < 1) {
            throw InvalidInputException.field("reduce", ": the reduction " + sel.record() + " gives a row length of "
                    + f + " for layer " + layer + " of shape " + map + "; expected >= 1");
        }
        return f;
    }

    /** The manifest's settings: the data named by the dataset's own {@link Dataset#source}. */
    private StoreSettings settings(String modelId, String dataSource, long count,
                                   StoreSettings.PartitionRange partition) {
        List<Float> sig = new ArrayList<>();
        for (float f : cfg.sigmas()) {
            sig.add(f);
        }
        int draws = cfg.input() == InputMode.CLEAN ? 1 : cfg.noiseDraws();
        return new StoreSettings(cfg.model() == null ? null : cfg.model().toString(), modelId, dataSource, count,
                cfg.layers(), sig, cfg.input().id(), draws, cfg.pool().id(), cfg.topk(), cfg.batch(),
                cfg.shardSize(), cfg.forwardRows(), cfg.seed(), cfg.split().id(), cfg.trainFrac(), cfg.limit(),
                partition, manifestReductions());
    }

    /** Per tap, the record of its reduction; null when no tap names one (the manifest then is as it always was). */
    private Map<String, ReductionRecord> manifestReductions() {
        if (cfg.reduce().isEmpty()) {
            return null;
        }
        Map<String, ReductionRecord> out = new LinkedHashMap<>();
        reductions.forEach((layer, sel) -> out.put(layer, sel.record()));
        return out;
    }

    private ExtractSummary summary(long images, long computed, Timings t, long start) {
        return new ExtractSummary(images, computed, cfg.sigmas().length, cfg.layers().size(),
                (System.nanoTime() - start) / 1e9, t.data, t.wait / 1e9, t.forward / 1e9, t.pool / 1e9,
                t.io / 1e9, cfg.out());
    }

    /** Nanoseconds per phase (data in seconds, measured on the prefetch thread). */
    private static final class Timings {
        double data;
        long wait, forward, pool, io;
    }
}
