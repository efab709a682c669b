package org.diffrep.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.data.Batch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.ExtractSummary;
import org.diffrep.extract.Extractor;
import org.diffrep.model.Denoiser;
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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code bench extract} (tools/bench-extract): images/s of mid-block mean features over the default
 * 10-sigma grid on MNIST with the default UNet, diffrep's {@link Extractor} against the loop a user
 * would write with LibTorch alone (one full forward per sigma, then {@code mean({2,3})}); then the
 * peak resident memory (VmHWM) of extractions of {@code --memory-sizes} images, each in a fresh JVM
 * running this command with {@code --memory N}. The UNet is randomly initialised from seed 0: speed
 * does not depend on the weights.
 */
@Command(name = "extract", mixinStandardHelpOptions = true, versionProvider = Bench.Version.class,
        description = {"diffrep extract against the plain LibTorch loop (mid-block means, default 10-sigma grid, "
                + "default UNet with random weights from seed 0), then the peak memory (VmHWM) of extractions of "
                + "--memory-sizes images, each in a fresh JVM.",
                "Memory per batch does not depend on the number of noise levels, time does: the memory runs use "
                        + "the first --memory-sigmas levels of the grid."})
public final class ExtractBenchmark implements Callable<Integer> {

    @Mixin
    BenchOptions common;

    @Option(names = "--images", paramLabel = "N", defaultValue = "500",
            description = "Images in the speed comparison; 0 skips it (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64",
            description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--data", paramLabel = "SPEC", defaultValue = "builtin:mnist",
            description = "Data spec of 1x28x28 images (default: ${DEFAULT-VALUE}).")
    String spec;

    @Option(names = "--memory-sizes", paramLabel = "N", split = "[,\\s]+", defaultValue = "2000,10000",
            description = "Image counts of the memory runs, one fresh JVM (-Xmx1g) each; 0 for none "
                    + "(default: ${DEFAULT-VALUE}).")
    List<Integer> memorySizes;

    @Option(names = "--memory-sigmas", paramLabel = "S", defaultValue = "1",
            description = "Noise levels (the first S of the grid) in the memory runs (default: ${DEFAULT-VALUE}).")
    int memorySigmas;

    @Option(names = "--python-images", paramLabel = "N", defaultValue = "1000",
            description = "Images of the TorchScript-vs-Python lines: the UNets of tools/torchscript_small_unet.py (with"
                    + " attention, without, wider), exported and run by PyTorch's own loop (tools/torchscript_reference_loop.py)"
                    + " and by diffrep extract; skipped when no python3 with torch is found (DIFFREP_PYTHON, /usr/bin/python3,"
                    + " python3); 0 skips them (default: ${DEFAULT-VALUE}).")
    int pythonImages;

    @Option(names = "--memory", paramLabel = "N",
            description = "Only one memory run of N images, in this JVM (what each fresh JVM runs).")
    Integer memory;

    @Override
    public Integer call() throws Exception {
        if (images < 0 || batch < 1 || memorySigmas < 1 || memorySigmas > KernelBenchmark.GRID.length) {
            throw new IllegalArgumentException("need --images >= 0, --batch >= 1 and --memory-sigmas in 1.."
                    + KernelBenchmark.GRID.length);
        }
        common.applyThreads();
        Map<String, Object> doc = new LinkedHashMap<>();
        if (memory != null) {
            doc = memoryRun(memory);
        } else {
            if (images > 0) {
                doc.put("speed", speedRun());
            }
            if (pythonImages > 0) {
                Object py = TorchScriptVsPython.run(pythonImages, batch);
                if (py != null) {
                    doc.put("torchscript_vs_python", py);
                }
            }
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

    private Dataset data() {
        return DataSpec.open(spec);
    }

    private static NetworkDenoiser model() {
        NetworkDenoiser model = ModelFiles.build("unet", ModelFiles.configJson(new UNet(UNet.Config.defaults(1, 28, 28))), 0);
        model.train(false);
        return model;
    }

    private Map<String, Object> header(NetworkDenoiser model, int sigmas) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("threads", Threads.torchThreads());
        result.put("model", "unet default " + ModelFiles.configJson(model));
        result.put("sigmas", sigmas);
        result.put("batch", batch);
        return result;
    }

    /** diffrep extract against the plain LibTorch loop on the same images, threads and model. */
    private Map<String, Object> speedRun() throws IOException {
        Dataset data = data();
        NetworkDenoiser model = model();
        float[] sigmas = KernelBenchmark.GRID.clone(); // the docs' 10-level grid
        Map<String, Object> result = header(model, sigmas.length);
        Path tmp = Files.createTempDirectory("bench-extract");
        try {
            // Warm-up of both paths (LibTorch initialises its kernels on first use).
            extract(model, data, spec, sigmas, Math.min(64, images), batch, tmp.resolve("warm"));
            plainLoop(model, data, sigmas, Math.min(64, images), batch);
            ExtractSummary s = extract(model, data, spec, sigmas, images, batch, tmp.resolve("store"));
            long t0 = System.nanoTime();
            plainLoop(model, data, sigmas, images, batch);
            double plainSeconds = (System.nanoTime() - t0) / 1e9;
            double plain = images / plainSeconds;
            result.put("images", images);
            result.put("diffrep_images_per_s", s.imagesPerSecond());
            result.put("diffrep_summary", s.line());
            result.put("libtorch_loop_images_per_s", plain);
            result.put("speedup", s.imagesPerSecond() / plain);
            System.out.println(s.line());
            System.out.printf("diffrep extract   %8.1f images/s%n", s.imagesPerSecond());
            System.out.printf("libtorch loop     %8.1f images/s (one full forward per sigma, then mean({2,3}))%n", plain);
            System.out.printf("speedup           %8.2fx (threads %d, %d images, %d sigmas, batch %d)%n",
                    s.imagesPerSecond() / plain, Threads.torchThreads(), images, sigmas.length, batch);
        } finally {
            deleteTree(tmp);
        }
        return result;
    }

    /** One extraction of n images in this JVM and its peak resident memory. */
    private Map<String, Object> memoryRun(int n) throws IOException {
        Dataset data = data();
        NetworkDenoiser model = model();
        // Memory per batch does not depend on the number of sigmas, only the time does.
        float[] sigmas = Arrays.copyOf(KernelBenchmark.GRID, memorySigmas);
        Map<String, Object> result = header(model, sigmas.length);
        Path tmp = Files.createTempDirectory("bench-extract");
        try {
            ExtractSummary s = extract(model, data, spec, sigmas, n, batch, tmp.resolve("store"));
            result.put("images", n);
            result.put("images_per_s", s.imagesPerSecond());
            result.put("peak_rss_mib", peakRssMib());
            System.out.printf("memory: %d images, %.1f images/s, peak RSS (VmHWM) %.0f MiB%n", n,
                    s.imagesPerSecond(), peakRssMib());
        } finally {
            deleteTree(tmp);
        }
        return result;
    }

    /** Runs {@code --memory n} in a fresh JVM (same classpath and JVM options, -Xmx1g) and returns its figures. */
    private Object freshJvmMemoryRun(int n) throws IOException, InterruptedException {
        return FreshJvm.run("1g", "the memory run of " + n + " images", List.of("extract", "--memory", Integer.toString(n),
                "--memory-sigmas", Integer.toString(memorySigmas), "--threads", Integer.toString(common.threads),
                "--batch", Integer.toString(batch), "--data", spec));
    }

    private static ExtractSummary extract(Denoiser model, Dataset data, String spec, float[] sigmas, int n, int batch,
                                          Path out) {
        // Forwards of batch x sigmas rows at most 128: no padded rows (640 = 5 x 128; 64 x 1 = 64).
        int rows = Math.min(128, batch * sigmas.length);
        ExtractConfig cfg = ExtractConfig.builder().data(spec).layers(List.of("mid")).sigmas(sigmas).limit(n)
                .batch(batch).forwardRows(rows).out(out).build();
        return new Extractor(cfg).log(null).run(model, "unet-seed-0", data);
    }

    /** What a user writes with LibTorch alone: per batch and sigma, a full forward, then the spatial mean of mid. */
    static float[][] plainLoop(Denoiser model, Dataset data, float[] sigmas, int n, int batch) {
        float[][] out = new float[sigmas.length][];
        try (InferenceMode guard = new InferenceMode()) {
            for (int b = 0; b < n; b += batch) {
                long[] idx = new long[Math.min(batch, n - b)];
                for (int i = 0; i < idx.length; i++) {
                    idx[i] = b + i;
                }
                try (PointerScope scope = new PointerScope()) {
                    Batch x = data.batch(idx);
                    for (int j = 0; j < sigmas.length; j++) {
                        float[] s = new float[idx.length];
                        Arrays.fill(s, sigmas[j]);
                        Tensor mid = model.forward(x.images(), Tensors.fromFloats(s), Set.of("mid"), true).taps().get("mid");
                        out[j] = Tensors.toFloats(mid.mean(new long[]{2, 3}));
                    }
                }
            }
        }
        return out;
    }

    /** Peak resident set size of this process (VmHWM), in MiB. */
    static double peakRssMib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }

    private static void deleteTree(Path p) throws IOException {
        try (var w = Files.walk(p)) {
            for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
