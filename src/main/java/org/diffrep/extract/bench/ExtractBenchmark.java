package org.diffrep.extract.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.data.Batch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.ExtractSummary;
import org.diffrep.extract.Extractor;
import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Json;
import org.diffrep.model.Denoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.UNet;
import org.diffrep.noise.SigmaGrid;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * tools/bench-extract: images/s of mid-block mean features over the default 10-sigma grid on MNIST
 * with the default UNet, diffrep's {@link Extractor} against the loop a user would write with
 * LibTorch alone (one full forward per sigma, then {@code mean({2,3})}); and, with
 * {@code --memory N}, the peak resident memory (VmHWM) of an extraction of N images.
 *
 * <pre>
 *   ExtractBenchmark [--images N] [--threads T] [--batch B] [--data SPEC] [--json FILE]
 *   ExtractBenchmark --memory N [--sigmas S] [--threads T] [--json FILE]   (first S levels of the grid)
 * </pre>
 * The UNet is randomly initialised from seed 0: speed does not depend on the weights.
 */
public final class ExtractBenchmark {

    private ExtractBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = options(args);
        int threads = Integer.parseInt(opt.getOrDefault("threads", "0"));
        Threads.set(threads);
        int images = Integer.parseInt(opt.getOrDefault("images", "500"));
        int batch = Integer.parseInt(opt.getOrDefault("batch", "64"));
        String spec = opt.getOrDefault("data", "builtin:mnist");
        Dataset data = DataSpec.open(spec);
        NetworkDenoiser model = ModelFiles.build("unet", ModelFiles.configJson(new UNet(UNet.Config.defaults(1, 28, 28))), 0);
        model.train(false);
        float[] sigmas = toFloats(SigmaGrid.defaults().sigmas());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("threads", Threads.torchThreads());
        result.put("model", "unet default " + ModelFiles.configJson(model));
        result.put("sigmas", sigmas.length);
        result.put("batch", batch);
        Path tmp = Files.createTempDirectory("bench-extract");
        try {
            if (opt.containsKey("memory")) {
                int n = Integer.parseInt(opt.get("memory"));
                // Memory per batch does not depend on the number of sigmas, only the time does.
                sigmas = Arrays.copyOf(sigmas, Integer.parseInt(opt.getOrDefault("sigmas", "10")));
                result.put("sigmas", sigmas.length);
                ExtractSummary s = extract(model, data, spec, sigmas, n, batch, tmp.resolve("store"));
                result.put("images", n);
                result.put("images_per_s", s.imagesPerSecond());
                result.put("peak_rss_mib", peakRssMib());
                System.out.printf("memory: %d images, %.1f images/s, peak RSS (VmHWM) %.0f MiB%n", n,
                        s.imagesPerSecond(), peakRssMib());
            } else {
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
            }
            if (opt.containsKey("json")) {
                Json.write(Path.of(opt.get("json")), result);
            }
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
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

    private static Map<String, String> options(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: ExtractBenchmark [--images N] [--threads T] [--batch B]"
                        + " [--data SPEC] [--memory N] [--json FILE]; got " + args[i]);
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
