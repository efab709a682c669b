package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.noise.SigmaGrid;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One extraction: which model and data, which taps and noise levels, how features are pooled, and
 * where the store goes. Build with {@link #builder} (the defaults are its field initialisers, also
 * readable as {@link #DEFAULTS}); {@link Builder#build} validates every field.
 *
 * @param model            model file (safetensors or TorchScript); may be null when a Denoiser is passed in
 * @param data             dataset spec, e.g. {@code builtin:mnist}
 * @param layers           taps to read, e.g. {@code mid}, {@code dec.0}
 * @param sigmas           noise levels (default: the 16-level grid of {@link SigmaGrid#defaults}, 0.002 to 80)
 * @param input            clean (eps = 0, still conditioned on sigma) or noisy (default clean)
 * @param noiseDraws       noisy mode: features averaged over this many noise draws (default 1)
 * @param pool             mean, mean+max or none (default mean)
 * @param topk             also store the top-k channels of the spatial means (0: no, the default)
 * @param batch            images read per batch (default 64); its S*batch (image, sigma) rows go
 *                         through the network {@code forwardRows} at a time
 * @param seed             seed of the noise and the split (default 0)
 * @param limit            at most this many images after the split filter (0: all)
 * @param split            train, test or all (default all)
 * @param trainFrac        train share of the split, or null for the dataset's own split or 0.8
 * @param out              store directory
 * @param resume           continue the store in {@code out}
 * @param threads          LibTorch and kernel threads (0: leave as set)
 * @param decodeThreads    threads reading and decoding batches ahead of the forward (default 2); they matter for
 *                         sources decoded per batch (folder, tar); the features do not depend on them
 * @param device           where the network, noise and pooling run: cpu (the default), cuda or cuda:N (the GPU
 *                         build, {@code -Pgpu}); rows come back to the CPU to be written. A GPU's kernels round
 *                         differently from the CPU's, so the manifest records the device type
 * @param shardSize        images per shard (default 1024): the unit of resumption
 * @param forwardRows      rows of every forward (default 128), cut at fixed boundaries of the run's
 *                         (image, sigma) rows; a forward that straddles two batches is padded and run
 *                         for each, so choose it to divide S*batch (64 x 16 sigmas = 1024 = 8 x 128)
 * @param partition        compute only this partition of the selected images into a partial store
 *                         (null, the default: all of them); see {@link Partition} and {@link StoreMerge}
 * @param reduce           per tap, the {@link FeatureReduction} by name that makes its rows, e.g.
 *                         {@code dec.0 -> my-kernel} (default empty: every tap uses {@code pool}); see
 *                         {@link Reductions} and docs/KERNELS.md
 * @param kernelFiles      native kernels that {@code reduce} may name, each {@code [NAME=]FILE[#SYMBOL]}: a
 *                         CUDA source (.cu) compiled at run time, or a shared library (.so) (default none)
 */
public record ExtractConfig(Path model, String data, List<String> layers, float[] sigmas, InputMode input,
                            int noiseDraws, Pooling pool, int topk, int batch, long seed, long limit,
                            SplitSelection split, Double trainFrac, Path out, boolean resume, int threads,
                            int decodeThreads, String device, int shardSize, int forwardRows, Partition partition, Map<String, String> reduce,
                            List<String> kernelFiles) {

    /** Every field at its default, as {@link #builder} starts; model, data and out unset (null). */
    public static final ExtractConfig DEFAULTS = new Builder().make();

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's fields. */
    public Builder toBuilder() {
        return new Builder().model(model).data(data).layers(layers).sigmas(sigmas).input(input).noiseDraws(noiseDraws)
                .pool(pool).topk(topk).batch(batch).seed(seed).limit(limit).split(split).trainFrac(trainFrac).out(out)
                .resume(resume).threads(threads).decodeThreads(decodeThreads).device(device).shardSize(shardSize).forwardRows(forwardRows)
                .partition(partition)
                .reduce(reduce).kernelFiles(kernelFiles);
    }

    /** The fields with their defaults; every setter returns the builder. */
    public static final class Builder {
        private Path model;
        private String data;
        private List<String> layers = List.of("mid");
        private float[] sigmas = toFloats(SigmaGrid.defaults().sigmas());
        private InputMode input = InputMode.CLEAN;
        private int noiseDraws = 1;
        private Pooling pool = Pooling.MEAN;
        private int topk = 0;
        private int batch = 64;
        private long seed = 0;
        private long limit = 0;
        private SplitSelection split = SplitSelection.ALL;
        private Double trainFrac = null;
        private Path out;
        private boolean resume = false;
        private int threads = 0;
        private int decodeThreads = 2;
        private String device = "cpu";
        private int shardSize = 1024;
        private int forwardRows = 128;
        private Partition partition = null;
        private Map<String, String> reduce = Map.of();
        private List<String> kernelFiles = List.of();

        public Builder model(Path v) { model = v; return this; }
        public Builder data(String v) { data = v; return this; }
        public Builder layers(List<String> v) { layers = List.copyOf(v); return this; }
        public Builder sigmas(float... v) { sigmas = v.clone(); return this; }
        public Builder sigmas(SigmaGrid g) { sigmas = toFloats(g.sigmas()); return this; }
        public Builder input(InputMode v) { input = v; return this; }
        public Builder noiseDraws(int v) { noiseDraws = v; return this; }
        public Builder pool(Pooling v) { pool = v; return this; }
        public Builder topk(int v) { topk = v; return this; }
        public Builder batch(int v) { batch = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder limit(long v) { limit = v; return this; }
        public Builder split(SplitSelection v) { split = v; return this; }
        public Builder trainFrac(Double v) { trainFrac = v; return this; }
        public Builder out(Path v) { out = v; return this; }
        public Builder resume(boolean v) { resume = v; return this; }
        public Builder threads(int v) { threads = v; return this; }
        public Builder decodeThreads(int v) { decodeThreads = v; return this; }
        public Builder device(String v) { device = v; return this; }
        public Builder shardSize(int v) { shardSize = v; return this; }
        public Builder forwardRows(int v) { forwardRows = v; return this; }
        public Builder partition(Partition v) { partition = v; return this; }
        public Builder partition(int index, int count) { partition = new Partition(index, count); return this; }
        public Builder reduce(Map<String, String> v) { reduce = Collections.unmodifiableMap(new LinkedHashMap<>(v)); return this; }
        public Builder kernelFiles(List<String> v) { kernelFiles = List.copyOf(v); return this; }

        public ExtractConfig build() {
            require(out != null, "out", "is required");
            require(layers != null && !layers.isEmpty(), "layers", ": at least one layer is required");
            require(layers.stream().distinct().count() == layers.size(), "layers", ": a layer is named twice: " + layers);
            require(sigmas != null && sigmas.length > 0, "sigmas", ": at least one noise level is required");
            for (float s : sigmas) {
                require(Float.isFinite(s) && s >= 0, "sigmas", ": levels must be finite and >= 0, got " + s);
            }
            require(noiseDraws >= 1, "noiseDraws", "must be >= 1, got " + noiseDraws);
            if (noiseDraws != 1 && input != InputMode.NOISY) {
                throw InvalidInputException.fields("{noiseDraws} > 1 needs {input} noisy", "noiseDraws", "input");
            }
            require(topk >= 0, "topk", "must be >= 0, got " + topk);
            require(batch >= 1, "batch", "must be >= 1, got " + batch);
            require(limit >= 0, "limit", "must be >= 0, got " + limit);
            require(decodeThreads >= 1 && decodeThreads <= 256, "decodeThreads", "must be in 1..256, got " + decodeThreads);
            require(device != null && device.matches("cpu|cuda(:[0-9]{1,3})?"), "device",
                    ": expected cpu, cuda or cuda:N, got " + InvalidInputException.literal(device));
            require(shardSize >= 1, "shardSize", "must be >= 1, got " + shardSize);
            require(forwardRows >= 1, "forwardRows", "must be >= 1, got " + forwardRows);
            require(trainFrac == null || (trainFrac > 0 && trainFrac <= 1),
                    "trainFrac", ": expected a fraction in (0, 1], got " + trainFrac);
            if (partition != null) {
                require(partition.count() >= 1, "partition", ": expected I/N with N >= 1, got " + partition);
                require(partition.index() >= 0 && partition.index() < partition.count(), "partition",
                        ": expected I/N with 0 <= I < N, got " + partition);
            }
            for (Map.Entry<String, String> e : reduce.entrySet()) {
                require(layers.contains(e.getKey()), "reduce", ": layer '" + e.getKey() + "' is not among the layers "
                        + layers);
                require(e.getValue() != null && !e.getValue().isBlank(), "reduce", ": no reduction named for layer "
                        + e.getKey());
            }
            return make();
        }

        private ExtractConfig make() {
            return new ExtractConfig(model, data, layers, sigmas.clone(), input, noiseDraws, pool, topk, batch, seed,
                    limit, split, trainFrac, out, resume, threads, decodeThreads, device, shardSize, forwardRows, partition, reduce,
                    kernelFiles);
        }

        /** Throws unless {@code ok}: {@code field} then {@code detail} ({@link InvalidInputException#field}). */
        private static void require(boolean ok, String field, String detail) {
            if (!ok) {
                throw InvalidInputException.field(field, detail);
            }
        }

        private static float[] toFloats(double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
    }
}
