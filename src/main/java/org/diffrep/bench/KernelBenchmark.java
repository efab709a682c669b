package org.diffrep.bench;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.io.Json;
import org.diffrep.ops.Kernels;
import org.diffrep.ops.Threads;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * tools/bench-kernels: each native kernel against what a user would write in LibTorch on the same
 * tensors and threads. Prints a table; {@code --json FILE} writes one entry per kernel and size
 * with both times and ratio = LibTorch time / ours.
 */
public final class KernelBenchmark {

    /** One measured case. */
    public record Result(String kernel, String size, double oursMs, double libtorchMs, double ratio) {
    }

    private static final float[] GRID = {0.002f, 0.008f, 0.023f, 0.060f, 0.140f, 0.296f, 0.585f, 1.088f, 1.923f, 3.257f};

    private final int reps;

    private KernelBenchmark(int reps) {
        this.reps = reps;
    }

    public static void main(String[] args) throws Exception {
        Path json = null;
        int threads = 0;
        int reps = 15;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = Path.of(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "-h", "--help" -> {
                    System.out.println("usage: tools/bench-kernels [--json FILE] [--threads N] [--reps R]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Threads.set(threads);
        torch.manual_seed(0);
        List<Result> results = new KernelBenchmark(reps).runAll();
        System.out.printf("threads: LibTorch %d, kernels %d; median of %d runs after warm-up%n",
                Threads.torchThreads(), Threads.kernelThreads(), reps);
        System.out.printf("%-10s %-22s %12s %12s %8s%n", "kernel", "size", "ours ms", "libtorch ms", "ratio");
        for (Result r : results) {
            System.out.printf("%-10s %-22s %12.3f %12.3f %7.2fx%n", r.kernel, r.size, r.oursMs, r.libtorchMs, r.ratio);
        }
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("threads", Threads.torchThreads());
            doc.put("reps", reps);
            doc.put("results", results);
            Json.write(json, doc);
            System.out.println("wrote " + json);
        }
    }

    private List<Result> runAll() {
        List<Result> out = new ArrayList<>();
        for (long[] shape : new long[][]{{256, 1, 28, 28}, {256, 128, 8, 8}}) {
            out.add(noise(shape));
        }
        for (long[] shape : new long[][]{{256, 128, 8, 8}, {256, 512, 16, 16}}) {
            out.add(pool(shape));
        }
        for (int k : new int[]{8, 32, 64}) {
            out.add(topk(256, 16384, k));
        }
        out.add(topk(256, 512, 32));
        out.add(poolTopk(new long[]{256, 128, 8, 8}, 8));
        out.add(poolTopk(new long[]{256, 512, 16, 16}, 32));
        return out;
    }

    private Result noise(long[] shape) {
        Tensor x = torch.randn(shape);
        Runnable ours = () -> Kernels.noiseInject(x, GRID, null, null, 1L, false);
        Runnable lib = () -> {
            for (float s : GRID) {
                x.add(torch.randn_like(x).mul(new Scalar(s)));
            }
        };
        return compare("noise x10", shape, ours, lib);
    }

    private Result pool(long[] shape) {
        Tensor x = torch.randn(shape);
        return compare("pool", shape, () -> Kernels.pool(x, false, false, 0f),
                () -> x.mean(new long[]{2, 3}, false, null));
    }

    private Result topk(long n, long c, int k) {
        Tensor x = torch.randn(n, c);
        return compare("topk k=" + k, new long[]{n, c}, () -> Kernels.topk(x, k, Kernels.Rank.VALUE),
                () -> x.topk(k, 1, true, true));
    }

    private Result poolTopk(long[] shape, int k) {
        Tensor x = torch.randn(shape);
        return compare("pool+topk k=" + k, shape, () -> Kernels.poolTopk(x, k, Kernels.Rank.VALUE, true),
                () -> x.mean(new long[]{2, 3}, false, null).topk(k, 1, true, true));
    }

    private Result compare(String kernel, long[] shape, Runnable ours, Runnable lib) {
        double o = median(ours);
        double l = median(lib);
        return new Result(kernel, java.util.Arrays.toString(shape).replace(" ", ""), o, l, l / o);
    }

    /** Median wall time in ms after 3 warm-up runs. */
    private double median(Runnable r) {
        return 1e3 * MedianTimer.seconds(3, reps, r);
    }
}
