package org.diffrep.bench;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.ops.Kernels;
import org.diffrep.ops.Threads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code bench kernels} (tools/bench-kernels): each native kernel against what a user would write in
 * LibTorch on the same tensors and threads, timed as the median of repeated runs. Prints a table;
 * {@code --json FILE} writes one entry per kernel and size with both times and ratio = LibTorch time /
 * ours. {@code bench jmh} ({@link KernelJmh}) times the same cases with JMH and prints the same table.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true, versionProvider = Bench.Version.class,
        description = {"Native kernels (noise inject over the 10-sigma grid, pool, top-k, pool+top-k) against "
                + "plain LibTorch on the same tensors and threads: median of --reps runs after --warmup, the two "
                + "sides' runs interleaved, "
                + "ratio = LibTorch time / ours.",
                "Baselines: x.add(randn_like(x).mul(sigma)) per sigma; mean({2,3}); topk; mean then topk."})
public final class KernelBenchmark implements Callable<Integer> {

    /**
     * One measured case: median wall times and their ratio; median process CPU times (all threads) of
     * each side where measured (NaN otherwise), a figure a loaded machine inflates less than wall time.
     */
    public record Result(String kernel, String size, double oursMs, double libtorchMs, double ratio, double oursCpuMs,
                         double libtorchCpuMs) {

        public Result(String kernel, String size, double oursMs, double libtorchMs, double ratio) {
            this(kernel, size, oursMs, libtorchMs, ratio, Double.NaN, Double.NaN);
        }
    }

    /**
     * The kinds of kernel the table compares. NOISE writes into an output made once per case and reused,
     * as a caller that keeps its buffer does ({@link Kernels#noiseInject(Tensor, float[], float[], Tensor, long,
     * boolean, Tensor)}); NOISE_FRESH allocates it per call, so its time includes the operating system's
     * zeroing of the fresh pages (LibTorch's per-level temporaries come back from the allocator).
     */
    enum Kind { NOISE, NOISE_FRESH, POOL, TOPK, POOL_TOPK }

    /**
     * One row of the table: a kernel on a tensor of {@code shape}, keeping {@code k} values (top-k kinds).
     * {@link #param} is the same case as a JMH parameter value ({@code 256x1x28x28}, {@code 256x16384/8}).
     */
    record Case(Kind kind, long[] shape, int k) {

        String label() {
            return switch (kind) {
                case NOISE -> "noise x" + GRID.length;
                case NOISE_FRESH -> "noise x" + GRID.length + " fresh";
                case POOL -> "pool";
                case TOPK -> "topk k=" + k;
                case POOL_TOPK -> "pool+topk k=" + k;
            };
        }

        String size() {
            return Arrays.toString(shape).replace(" ", "");
        }

        String param() {
            String s = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining("x"));
            return kind == Kind.TOPK || kind == Kind.POOL_TOPK ? s + "/" + k : s;
        }

        /** Parses {@link #param}: dimensions joined by 'x', then '/k' for the top-k kinds. */
        static Case parse(Kind kind, String param) {
            String[] parts = param.split("/");
            long[] shape = Arrays.stream(parts[0].split("x")).mapToLong(Long::parseLong).toArray();
            return new Case(kind, shape, parts.length > 1 ? Integer.parseInt(parts[1]) : 0);
        }
    }

    /**
     * The 10-sigma grid of the docs' figures (0.002-3.257, the default grid before issue 18): the benchmarks keep it so
     * that their figures stay comparable; the default grid now has 16 levels (SigmaGrid.defaults()).
     */
    static final float[] GRID = {0.002f, 0.008f, 0.023f, 0.060f, 0.140f, 0.296f, 0.585f, 1.088f, 1.923f, 3.257f};

    /** The cases of the table (docs/PERFORMANCE.md), every tensor with {@code batch} rows. */
    static List<Case> cases(long batch) {
        List<Case> out = new ArrayList<>();
        out.add(new Case(Kind.NOISE, new long[]{batch, 1, 28, 28}, 0));
        out.add(new Case(Kind.NOISE, new long[]{batch, 128, 8, 8}, 0));
        out.add(new Case(Kind.NOISE_FRESH, new long[]{batch, 128, 8, 8}, 0));
        out.add(new Case(Kind.POOL, new long[]{batch, 128, 8, 8}, 0));
        out.add(new Case(Kind.POOL, new long[]{batch, 512, 16, 16}, 0));
        for (int k : new int[]{8, 32, 64}) {
            out.add(new Case(Kind.TOPK, new long[]{batch, 16384}, k));
        }
        out.add(new Case(Kind.TOPK, new long[]{batch, 512}, 32));
        out.add(new Case(Kind.POOL_TOPK, new long[]{batch, 128, 8, 8}, 8));
        out.add(new Case(Kind.POOL_TOPK, new long[]{batch, 512, 16, 16}, 32));
        return out;
    }

    @Mixin
    BenchOptions common;

    @Option(names = "--reps", paramLabel = "R", defaultValue = "15",
            description = "Timed runs per case; the median is reported (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "3",
            description = "Untimed runs per case first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "256",
            description = "Rows of every tensor, the leading dimension of the sizes in the table (default: ${DEFAULT-VALUE}).")
    long batch;

    @Override
    public Integer call() throws Exception {
        if (reps < 1 || warmup < 0 || batch < 1) {
            throw new IllegalArgumentException("need --reps >= 1, --warmup >= 0 and --batch >= 1");
        }
        common.applyThreads();
        torch.manual_seed(0);
        List<Result> results = new ArrayList<>();
        for (Case c : cases(batch)) {
            results.add(run(c));
        }
        System.out.printf("threads: LibTorch %d, kernels %d; median of %d runs after %d warm-up%n",
                Threads.torchThreads(), Threads.kernelThreads(), reps, warmup);
        // Which vector paths ran (tools/bench-kernels --isa avx2 holds both to AVX2).
        System.out.printf("kernels ISA: %s; LibTorch CPU capability: %s%n", Kernels.cpuIsaStatus(),
                torch.get_cpu_capability().getString());
        printTable(results);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("threads", Threads.torchThreads());
        doc.put("reps", reps);
        doc.put("cpuIsa", Kernels.cpuIsa());
        doc.put("libtorchCpuCapability", torch.get_cpu_capability().getString());
        doc.put("results", results);
        common.writeJson(doc);
        return 0;
    }

    /** The table PERFORMANCE.md quotes: kernel, size, both times in ms, ratio. */
    static void printTable(List<Result> results) {
        boolean cpu = results.stream().anyMatch(r -> !Double.isNaN(r.oursCpuMs));
        System.out.printf("%-16s %-18s %12s %12s %8s%s%n", "kernel", "size", "ours ms", "libtorch ms", "ratio",
                cpu ? String.format(" | %12s %12s %8s", "ours cpu ms", "lib cpu ms", "cpu ratio") : "");
        for (Result r : results) {
            System.out.printf("%-16s %-18s %12.3f %12.3f %7.2fx%s%n", r.kernel, r.size, r.oursMs, r.libtorchMs, r.ratio,
                    cpu ? String.format(" | %12.3f %12.3f %7.2fx", r.oursCpuMs, r.libtorchCpuMs,
                            r.libtorchCpuMs / r.oursCpuMs) : "");
        }
    }

    private Result run(Case c) {
        Tensor x = torch.randn(c.shape);
        Tensor out = noiseOutput(c, x);
        // interleaved, so that both sides see the same load (a shared machine)
        double[] t = MedianTimer.pair(warmup, reps, () -> ours(c, x, out), () -> libtorch(c, x));
        double ours = 1e3 * t[0], lib = 1e3 * t[1];
        return new Result(c.label(), c.size(), ours, lib, lib / ours, 1e3 * t[2], 1e3 * t[3]);
    }

    /** The reused output of a NOISE case ([levels, ...x's shape]), else null. */
    static Tensor noiseOutput(Case c, Tensor x) {
        if (c.kind != Kind.NOISE) {
            return null;
        }
        long[] shape = new long[c.shape.length + 1];
        shape[0] = GRID.length;
        System.arraycopy(c.shape, 0, shape, 1, c.shape.length);
        return torch.empty(shape, x.options(), null);
    }

    /**
     * Our kernel on x (noise into {@code out}, from {@link #noiseOutput}); returns something of the output so
     * nothing is optimised away.
     */
    static long ours(Case c, Tensor x, Tensor out) {
        return switch (c.kind) {
            case NOISE -> Kernels.noiseInject(x, GRID, null, null, 1L, false, out).numel();
            case NOISE_FRESH -> Kernels.noiseInject(x, GRID, null, null, 1L, false).numel();
            case POOL -> Kernels.pool(x, false, false, 0f).mean().numel();
            case TOPK -> Kernels.topk(x, c.k, Kernels.Rank.VALUE).indices().numel();
            case POOL_TOPK -> Kernels.poolTopk(x, c.k, Kernels.Rank.VALUE, true).topk().indices().numel();
        };
    }

    /** What a user writes in LibTorch for the same result. */
    static long libtorch(Case c, Tensor x) {
        return switch (c.kind) {
            case NOISE, NOISE_FRESH -> {
                long n = 0;
                for (float s : GRID) {
                    n += x.add(torch.randn_like(x).mul(new Scalar(s))).numel();
                }
                yield n;
            }
            case POOL -> x.mean(new long[]{2, 3}, false, null).numel();
            case TOPK -> x.topk(c.k, 1, true, true).get1().numel();
            case POOL_TOPK -> x.mean(new long[]{2, 3}, false, null).topk(c.k, 1, true, true).get1().numel();
        };
    }
}
