package org.diffrep.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.data.Batch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.data.ShardPacker;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.ExtractSummary;
import org.diffrep.extract.Extractor;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.UNet;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code bench data} (tools/bench-data): can decoding keep up with the forward? Images/s of decoding PNG and JPEG
 * members of tar shards ({@code tar:}) at each of {@code --decode-threads}, next to the default UNet's forward to
 * {@code mid} at the same size; then the peak resident memory (VmHWM) of {@code extract} (tap {@code enc.0}, one
 * sigma) over {@code --memory-sizes} generated 3 x 64 x 64 images in tar shards, each in a fresh JVM, to show that
 * memory does not grow with the dataset. Generated shards are kept in {@code --work} and reused.
 */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = {"Decode images/s of PNG and JPEG tar-shard members at 1 and 2 threads against the default UNet's"
                + " forward to mid; then peak RSS of extract (enc.0) over generated 3x64x64 images in tar shards,"
                + " each size in a fresh JVM (-Xmx" + DataBenchmark.MEMORY_HEAP + ")."})
public final class DataBenchmark implements Callable<Integer> {

    static final String MEMORY_HEAP = "512m";

    @Mixin
    BenchOptions common;

    @Option(names = "--images", paramLabel = "N", defaultValue = "2000",
            description = "Images per decode measurement (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--sizes", paramLabel = "S", split = ",", defaultValue = "32,64",
            description = "Image sizes (square, 3 channels) of the decode runs (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(names = "--decode-threads", paramLabel = "T", split = ",", defaultValue = "1,2",
            description = "Decode thread counts (default: ${DEFAULT-VALUE}).")
    List<Integer> decodeThreads;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--memory-sizes", paramLabel = "N", split = "[,\\s]+", defaultValue = "20000,200000",
            description = "Image counts of the memory runs, one fresh JVM each; 0 for none (default: ${DEFAULT-VALUE}).")
    List<Integer> memorySizes;

    @Option(names = "--memory", paramLabel = "N", description = "Only one memory run of N images, in this JVM.")
    Integer memory;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "target/bench-data",
            description = "Where generated shards are kept between runs (default: ${DEFAULT-VALUE}).")
    Path work;

    @Override
    public Integer call() throws Exception {
        if (images < 1 || batch < 1 || sizes.stream().anyMatch(s -> s < 8) || decodeThreads.stream().anyMatch(t -> t < 1)) {
            throw new IllegalArgumentException("need --images >= 1, --batch >= 1, --sizes >= 8 and --decode-threads >= 1");
        }
        common.applyThreads();
        Map<String, Object> doc = new LinkedHashMap<>();
        if (memory != null) {
            doc = memoryRun(memory);
        } else {
            doc.put("cpu", cpuName());
            doc.put("torch_threads", Threads.torchThreads());
            doc.put("decode", decodeRuns());
            List<Object> mem = new ArrayList<>();
            for (int n : memorySizes) {
                if (n > 0) {
                    mem.add(freshJvmMemoryRun(n));
                }
            }
            if (!mem.isEmpty()) {
                doc.put("memory", mem);
            }
        }
        common.writeJson(doc);
        return 0;
    }

    private List<Object> decodeRuns() throws Exception {
        List<Object> rows = new ArrayList<>();
        System.out.printf("%-6s %-5s %8s %12s %12s  %s%n", "size", "fmt", "threads", "decode img/s", "fwd mid img/s",
                "decode / forward (1 sigma; the default grid has 10)");
        for (int size : sizes) {
            double forward = forwardMid(size);
            for (ShardPacker.Format f : ShardPacker.Format.values()) {
                Path shards = shards(images, size, f);
                Dataset d = DataSpec.open("tar:" + shards + ",size=" + size + ",channels=3");
                decode(d, 1); // warm-up: ImageIO's readers and the page cache
                for (int t : decodeThreads) {
                    double rate = decode(d, t);
                    System.out.printf(Locale.ROOT, "%-6s %-5s %8d %12.0f %12.0f  %.1fx%n", size + "x" + size, f.id(), t,
                            rate, forward, rate / forward);
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("size", size);
                    r.put("format", f.id());
                    r.put("decode_threads", t);
                    r.put("decode_images_per_s", rate);
                    r.put("forward_mid_images_per_s", forward);
                    r.put("shard_bytes_per_image", dirBytes(shards) / (double) images);
                    rows.add(r);
                }
            }
        }
        return rows;
    }

    /** Images/s of reading all images in batches on t threads, each decoding whole batches as extract does. */
    private double decode(Dataset d, int t) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(t);
        try {
            long t0 = System.nanoTime();
            List<Future<?>> jobs = new ArrayList<>();
            for (int b = 0; b < d.size(); b += batch) {
                long[] idx = range(b, Math.min(d.size(), b + batch));
                jobs.add(pool.submit(() -> {
                    try (PointerScope scope = new PointerScope()) {
                        d.batch(idx);
                    }
                }));
            }
            for (Future<?> j : jobs) {
                j.get();
            }
            return d.size() / ((System.nanoTime() - t0) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Images/s of the default UNet's forward, stopped at mid, on 3 x size x size images at one sigma. */
    private double forwardMid(int size) {
        NetworkDenoiser model = model(size);
        try (InferenceMode guard = new InferenceMode(); PointerScope scope = new PointerScope()) {
            Tensor x = Tensors.fromFloats(new float[batch * 3 * size * size], batch, 3, size, size);
            float[] s = new float[batch];
            Arrays.fill(s, 1f);
            Tensor sigma = Tensors.fromFloats(s, batch);
            model.forward(x, sigma, Set.of("mid"), false);
            int reps = 0;
            long t0 = System.nanoTime();
            while (reps < 3 || System.nanoTime() - t0 < 2e9) {
                model.forward(x, sigma, Set.of("mid"), false);
                reps++;
            }
            return reps * batch / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static NetworkDenoiser model(int size) {
        NetworkDenoiser model = ModelFiles.build("unet", ModelFiles.configJson(new UNet(UNet.Config.defaults(3, size, size))), 0);
        model.train(false);
        return model;
    }

    /** One extraction (enc.0, one sigma) of n generated 64 x 64 images from tar shards, and its peak RSS. */
    private Map<String, Object> memoryRun(int n) throws IOException {
        Path shards = shards(n, 64, ShardPacker.Format.PNG);
        Dataset d = DataSpec.open("tar:" + shards + ",size=64,channels=3");
        Path out = Files.createTempDirectory("bench-data-store");
        try {
            ExtractConfig cfg = ExtractConfig.builder().data(d.source()).layers(List.of("enc.0")).sigmas(1f)
                    .batch(batch).forwardRows(batch).out(out.resolve("store")).build();
            ExtractSummary s = new Extractor(cfg).log(null).run(model(64), "unet-seed-0", d);
            double rss = ExtractBenchmark.peakRssMib();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("images", n);
            r.put("images_per_s", s.imagesPerSecond());
            r.put("peak_rss_mib", rss);
            r.put("heap", "-Xmx" + MEMORY_HEAP);
            System.out.printf(Locale.ROOT, "memory: %d images (3x64x64 PNG in tar shards), extract enc.0 at 1 sigma:"
                    + " %.0f images/s, peak RSS (VmHWM) %.0f MiB%n", n, s.imagesPerSecond(), rss);
            return r;
        } finally {
            deleteTree(out);
        }
    }

    private Object freshJvmMemoryRun(int n) throws IOException, InterruptedException {
        // the shards are made here first, so that the fresh JVM's peak is the extraction's alone
        shards(n, 64, ShardPacker.Format.PNG);
        return FreshJvm.run(MEMORY_HEAP, "the memory run of " + n + " images", List.of("data", "--memory",
                Integer.toString(n), "--threads", Integer.toString(common.threads), "--batch", Integer.toString(batch),
                "--work", work.toString()));
    }

    /** Shards of n generated images (kept in --work, made once): 1000 per shard. */
    private Path shards(int n, int size, ShardPacker.Format f) throws IOException {
        Path dir = work.resolve("synthetic-" + n + "-3x" + size + "x" + size + "-" + f.id());
        Path done = dir.resolve(".complete");
        if (Files.exists(done)) {
            return dir.resolve("shards");
        }
        deleteTree(dir);
        System.out.printf("making %d generated %dx%d %s images in tar shards under %s ...%n", n, size, size, f.id(), dir);
        ShardPacker.Summary s = ShardPacker.pack(new SyntheticImages(n, size), ShardPacker.Config.builder()
                .out(dir.resolve("shards")).format(f).shardSize(1000).encodeThreads(Math.max(1, Runtime.getRuntime()
                        .availableProcessors())).build(), null);
        System.out.println(s);
        Files.writeString(done, s.toString());
        return dir.resolve("shards");
    }

    private static long[] range(int from, int to) {
        long[] idx = new long[to - from];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = from + i;
        }
        return idx;
    }

    private static long dirBytes(Path dir) throws IOException {
        try (var w = Files.walk(dir)) {
            return w.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException ignored) {
            // not Linux: say so below
        }
        return System.getProperty("os.arch");
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var w = Files.walk(p)) {
            for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }

    /**
     * Generated RGB images, made on demand from their index (nothing held): a class-coloured blob and gradient with
     * pixel noise, so that PNG compresses them about as much as small natural photographs (neither flat nor noise).
     */
    static final class SyntheticImages implements Dataset {
        private final int n;
        private final int size;

        SyntheticImages(int n, int size) {
            this.n = n;
            this.size = size;
        }

        @Override public int size() { return n; }
        @Override public int[] imageShape() { return new int[]{3, size, size}; }
        @Override public int numClasses() { return 10; }
        @Override public List<String> classNames() { return List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"); }
        @Override public int label(int i) { return Math.floorMod(i * 7 + 3, 10); }

        @Override
        public int[] labels() {
            int[] l = new int[n];
            for (int i = 0; i < n; i++) {
                l[i] = label(i);
            }
            return l;
        }

        @Override public String source() { return "synthetic:" + n + "x3x" + size + "x" + size; }

        @Override
        public Batch batch(long[] indices) {
            int plane = size * size;
            float[] x = new float[indices.length * 3 * plane];
            long[] lab = new long[indices.length];
            for (int b = 0; b < indices.length; b++) {
                int i = (int) indices[b];
                lab[b] = label(i);
                SplittableRandom r = new SplittableRandom(i * 0x9E3779B97F4A7C15L);
                double cx = r.nextDouble(0.2, 0.8) * size, cy = r.nextDouble(0.2, 0.8) * size;
                double rad = r.nextDouble(0.15, 0.4) * size;
                for (int c = 0; c < 3; c++) {
                    double base = 40 + 20 * ((label(i) + c * 3) % 10), ramp = r.nextDouble(-1, 1);
                    for (int y = 0; y < size; y++) {
                        for (int xx = 0; xx < size; xx++) {
                            double d = Math.hypot(xx - cx, y - cy);
                            double v = base + ramp * 60 * (xx / (double) size) + (d < rad ? 80 : 0) + r.nextInt(-3, 4);
                            int q = (int) Math.max(0, Math.min(255, Math.round(v)));
                            x[(b * 3 + c) * plane + y * size + xx] = q / 127.5f - 1f;
                        }
                    }
                }
            }
            return new Batch(Tensors.fromFloats(x, indices.length, 3, size, size), Tensors.fromLongs(lab, indices.length),
                    indices.clone());
        }
    }
}
