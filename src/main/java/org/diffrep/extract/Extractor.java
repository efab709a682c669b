package org.diffrep.extract;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Batch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.data.Split;
import org.diffrep.io.Hashes;
import org.diffrep.io.Npy.DType;
import org.diffrep.model.BuiltinModels;
import org.diffrep.model.Denoiser;
import org.diffrep.model.ModelFiles;
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
    private final BatchFeatures features;
    private Listener listener = new Listener() {
    };
    private PrintStream log = System.err;
    private ShardWriter.FileOpener shardFiles = ShardWriter.NEW_FILE;
    private boolean progress = System.console() != null;

    public Extractor(ExtractConfig cfg) {
        this.cfg = cfg;
        this.features = new BatchFeatures(cfg);
    }

    /**
     * Checks the model against the configuration and data (layers, image shape, batch sizes) as {@link #run}
     * does first: for a driver that validates once before it hands the work to many tasks.
     */
    public void check(Denoiser model, Dataset data) {
        checkModelAndData(model, data);
    }

    /**
     * How many images the run selects from {@code data} (split part, limit): what partitions divide. For a
     * driver that checks a partition count before it hands the partitions out.
     */
    public long selectedCount(Dataset data) {
        return select(data, Split.choose(data, cfg.trainFrac(), cfg.seed())).length;
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
            return Hashes.sha256Id(BuiltinModels.resolve(file));
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
        features.moveModel(model);
        features.reductions();
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
     * Noise, stacked forwards, pooling ({@link BatchFeatures}, which documents the row layout that keeps
     * features independent of batch size and resumption) and the shard writes for one batch.
     *
     * @param first rank of the batch's first image among the run's selected images (for a partition, its rank
     *              in the whole run, not in the partition)
     */
    private void processBatch(Denoiser model, Batch b, long first, byte[] splitMask, ShardWriter shard, Timings t)
            throws IOException {
        long[] ids = b.indices();
        int n = ids.length;
        int s = cfg.sigmas().length;
        long f0 = features.forwardNanos, p0 = features.poolNanos;
        Map<String, Tensor[]> acc = features.pooled(model, b.images(), ids, first);
        t.forward += features.forwardNanos - f0;
        t.pool += features.poolNanos - p0;
        for (int j = 0; j < s; j++) {
            for (String layer : cfg.layers()) {
                writeSigma(shard, layer, j, BatchFeatures.sigmaRows(acc.get(layer), n, s, j), n, ids, t);
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

    private void writeSigma(ShardWriter shard, String layer, int sigmaIndex, Tensor[] pooled, int n,
                            long[] ids, Timings t) throws IOException {
        long pa = System.nanoTime();
        Tensor mean = pooled[0];
        Tensor featureRows = features.reductions().get(layer).builtin() == Pooling.NONE ? pooled[2] : mean;
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

    private void checkModelAndData(Denoiser model, Dataset data) {
        List<String> available = model.taps();
        for (String layer : cfg.layers()) {
            List<String> parts = ConcatTaps.parts(layer);
            for (String part : parts) {
                if (!available.contains(part)) {
                    throw InvalidInputException.field("layers", ": unknown layer '" + part + "'"
                            + (parts.size() > 1 ? " in '" + layer + "'" : "") + "; the model has "
                            + String.join(", ", available) + " (join taps with '+', e.g. enc.1+mid)");
                }
            }
            if (parts.size() > 1 && parts.stream().distinct().count() < parts.size()) {
                throw InvalidInputException.field("layers", ": '" + layer + "' names a tap twice");
            }
            if (parts.size() > 1 && cfg.reduce().containsKey(layer)) {
                throw InvalidInputException.field("reduce", ": a concatenated tap ('" + layer + "') takes the built-in"
                        + " pooling (--pool) only; reduce its parts as separate layers instead");
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
            Denoiser.Output out = model.forward(features.onDevice(b.images()),
                    features.onDevice(Tensors.fromFloats(new float[]{cfg.sigmas()[0]})),
                    ConcatTaps.forwardTaps(cfg.layers()), false);
            for (String layer : cfg.layers()) {
                if (ConcatTaps.isConcat(layer)) {
                    shapes.put(layer, concatShape(layer, out.taps()));
                    continue;
                }
                long[] shape = Tensors.shape(out.taps().get(layer));
                List<Long> map = new ArrayList<>();
                long flat = 1;
                for (int i = 1; i < shape.length; i++) {
                    map.add(shape[i]);
                    flat *= shape[i];
                }
                long channels = shape[1];
                Reductions.Selected sel = features.reductions().get(layer);
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

    /** A concatenated tap's stored width: the parts' channels (or flattened maps) summed; its map is [width]. */
    private StoreManifest.LayerShape concatShape(String layer, Map<String, Tensor> taps) {
        long channels = 0, flat = 0;
        for (String part : ConcatTaps.parts(layer)) {
            long[] shape = Tensors.shape(taps.get(part));
            long f = 1;
            for (int i = 1; i < shape.length; i++) {
                f *= shape[i];
            }
            channels += shape[1];
            flat += f;
        }
        if (cfg.topk() > channels) {
            throw InvalidInputException.field("topk", cfg.topk() + " exceeds the " + channels + " channels of layer "
                    + layer);
        }
        long width = features.reductions().get(layer).builtin() == Pooling.NONE ? flat : channels;
        return new StoreManifest.LayerShape(List.of(width), width);
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
                partition, manifestReductions(), "cpu".equals(cfg.device()) ? null : "cuda");
    }

    /** Per tap, the record of its reduction; null when no tap names one (the manifest then is as it always was). */
    private Map<String, ReductionRecord> manifestReductions() {
        if (cfg.reduce().isEmpty()) {
            return null;
        }
        Map<String, ReductionRecord> out = new LinkedHashMap<>();
        features.reductions().forEach((layer, sel) -> out.put(layer, sel.record()));
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
