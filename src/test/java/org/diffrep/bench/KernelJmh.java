package org.diffrep.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.bench.KernelBenchmark.Case;
import org.diffrep.bench.KernelBenchmark.Kind;
import org.diffrep.ops.Threads;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * JMH benchmarks of the native kernels, each beside its LibTorch baseline ({@code xxxOurs} and
 * {@code xxxLibtorch} on the same input): the cases of {@link KernelBenchmark}, which both sides
 * share. Run them with {@code tools/bench-kernels --jmh} ({@link JmhBenchmark}, which also prints the
 * ratio table) or with JMH's own runner ({@code org.openjdk.jmh.Main KernelJmh}). Each call runs in a
 * {@link PointerScope}, so its outputs are freed as a user's loop frees them. The thread count comes
 * from the system property {@value #THREADS_PROPERTY} (0 or unset: all cores).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class KernelJmh {

    /** System property with the thread count for LibTorch and the kernels in the benchmark JVM. */
    public static final String THREADS_PROPERTY = "diffrep.bench.threads";

    /** The input of one case: a random tensor of the case's shape, made once per trial. */
    abstract static class Input {
        Case c;
        Tensor x;
        Tensor out;

        void make(Kind kind, String param) {
            Threads.set(Integer.getInteger(THREADS_PROPERTY, 0));
            torch.manual_seed(0);
            c = Case.parse(kind, param);
            x = torch.randn(c.shape());
            out = KernelBenchmark.noiseOutput(c, x);
        }

        void free() {
            x.close();
            if (out != null) {
                out.close();
            }
        }
    }

    /** Noise inject over the 10-sigma grid; parameter: the shape of x0. */
    @State(Scope.Benchmark)
    public static class NoiseInput extends Input {
        @Param({"256x1x28x28", "256x128x8x8"})
        public String noiseShape;

        @Setup(Level.Trial)
        public void setup() {
            make(Kind.NOISE, noiseShape);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            free();
        }
    }

    /** Spatial mean pooling; parameter: the shape [N, C, H, W]. */
    @State(Scope.Benchmark)
    public static class PoolInput extends Input {
        @Param({"256x128x8x8", "256x512x16x16"})
        public String poolShape;

        @Setup(Level.Trial)
        public void setup() {
            make(Kind.POOL, poolShape);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            free();
        }
    }

    /** Top-k by value; parameter: shape [N, C] and k as {@code NxC/k}. */
    @State(Scope.Benchmark)
    public static class TopkInput extends Input {
        @Param({"256x16384/8", "256x16384/32", "256x16384/64", "256x512/32"})
        public String topkCase;

        @Setup(Level.Trial)
        public void setup() {
            make(Kind.TOPK, topkCase);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            free();
        }
    }

    /** Pooling and top-k of the means in one pass; parameter: shape [N, C, H, W] and k as {@code NxCxHxW/k}. */
    @State(Scope.Benchmark)
    public static class PoolTopkInput extends Input {
        @Param({"256x128x8x8/8", "256x512x16x16/32"})
        public String poolTopkCase;

        @Setup(Level.Trial)
        public void setup() {
            make(Kind.POOL_TOPK, poolTopkCase);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            free();
        }
    }

    @Benchmark
    public long noiseOurs(NoiseInput in) {
        return ours(in);
    }

    @Benchmark
    public long noiseLibtorch(NoiseInput in) {
        return libtorch(in);
    }

    @Benchmark
    public long poolOurs(PoolInput in) {
        return ours(in);
    }

    @Benchmark
    public long poolLibtorch(PoolInput in) {
        return libtorch(in);
    }

    @Benchmark
    public long topkOurs(TopkInput in) {
        return ours(in);
    }

    @Benchmark
    public long topkLibtorch(TopkInput in) {
        return libtorch(in);
    }

    @Benchmark
    public long poolTopkOurs(PoolTopkInput in) {
        return ours(in);
    }

    @Benchmark
    public long poolTopkLibtorch(PoolTopkInput in) {
        return libtorch(in);
    }

    private static long ours(Input in) {
        try (PointerScope scope = new PointerScope()) {
            return KernelBenchmark.ours(in.c, in.x, in.out);
        }
    }

    private static long libtorch(Input in) {
        try (PointerScope scope = new PointerScope()) {
            return KernelBenchmark.libtorch(in.c, in.x);
        }
    }
}
