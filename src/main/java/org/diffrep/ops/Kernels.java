package org.diffrep.ops;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.List;

/**
 * The safe face of the native kernels: takes LibTorch tensors, checks dtype, contiguity, device
 * and shapes, allocates outputs on the input's device and calls {@link NativeOps}. Bad arguments
 * give an {@link IllegalArgumentException}; they never reach native code.
 */
public final class Kernels {

    private Kernels() {
    }

    /** The instruction sets of the CPU kernels, best first (diffrep_ops.h, diffrep_cpu_isa). */
    public static final List<String> CPU_ISAS = List.of("avx512", "avx2", "portable");

    /**
     * The instruction set the CPU kernels run with: "avx512", "avx2" or "portable". The best the CPU
     * has unless the environment variable DIFFREP_CPU_ISA named another when the library loaded.
     */
    public static String cpuIsa() {
        return NativeOps.diffrep_cpu_isa().getString();
    }

    /** {@link #cpuIsa()} and why, one line ("avx2 (DIFFREP_CPU_ISA=avx2; this CPU has avx512)"). */
    public static String cpuIsaStatus() {
        return NativeOps.diffrep_cpu_isa_status().getString();
    }

    /**
     * Switches the CPU kernels to {@code isa} (one of {@link #CPU_ISAS}, or "auto" for the best),
     * process-wide; for measurements and tests, since every path gives the same results.
     *
     * @throws IllegalArgumentException for another name, or a set this CPU cannot run
     */
    public static void setCpuIsa(String isa) {
        if (isa == null || !(isa.equals("auto") || CPU_ISAS.contains(isa))) {
            throw new IllegalArgumentException("CPU ISA must be one of " + CPU_ISAS + " or auto, got " + isa);
        }
        try (BytePointer p = new BytePointer(isa)) {
            if (NativeOps.diffrep_set_cpu_isa(p) != NativeOps.OK) {
                throw new IllegalArgumentException(NativeOps.diffrep_last_error().getString());
            }
        }
    }

    /** How top-k ranks a row. */
    public enum Rank {
        VALUE(NativeOps.TOPK_VALUE), MAGNITUDE(NativeOps.TOPK_MAGNITUDE);

        final int code;

        Rank(int code) {
            this.code = code;
        }
    }

    /** Pooled maps: mean always; max and active fraction when asked for (else null). */
    public record Pooled(Tensor mean, Tensor max, Tensor active) {
    }

    /** Top-k values and their int64 indices, both [N, k], sorted descending. */
    public record TopK(Tensor values, Tensor indices) {
    }

    /** Spatial means [N, C] and their top-k. */
    public record PooledTopK(Tensor mean, TopK topk) {
    }

    /**
     * Noise over a grid of levels in one call: for x0 [N, ...] returns [S, N, ...] with
     * {@code out[j, i] = scales[j] * (x0[i] + sigmas[j] * eps(seed, ids[i], j))}.
     *
     * @param ids    sample ids [N] (int64, same device as x0), or null for 0..N-1; the noise of a
     *               sample depends on its id, never on its place in the batch
     * @param scales per-level scale (VP input scaling), or null for 1
     * @param clean  when true, eps = 0 (the clean-input mode)
     */
    public static Tensor noiseInject(Tensor x0, float[] sigmas, float[] scales, Tensor ids, long seed, boolean clean) {
        requireFloat("x0", x0);
        Tensor out = torch.empty(noiseShape(x0, sigmas), x0.options(), null);
        return noiseInject(x0, sigmas, scales, ids, seed, clean, out);
    }

    /**
     * {@link #noiseInject(Tensor, float[], float[], Tensor, long, boolean)} into {@code out}, a contiguous
     * float tensor of shape [S, N, ...] on x0's device (every element is overwritten), which a caller can
     * keep across batches: a fresh large output costs the operating system's zeroing of its pages on first
     * write (about a third of the kernel's CPU time for 84 MB, docs/PERFORMANCE.md).
     *
     * @return out
     */
    public static Tensor noiseInject(Tensor x0, float[] sigmas, float[] scales, Tensor ids, long seed, boolean clean,
                                     Tensor out) {
        requireFloat("x0", x0);
        long[] outShape = noiseShape(x0, sigmas);
        for (float s : sigmas) {
            if (!Float.isFinite(s) || s < 0) {
                throw new IllegalArgumentException("sigmas must be finite and >= 0, got " + Arrays.toString(sigmas));
            }
        }
        if (scales != null && scales.length != sigmas.length) {
            throw new IllegalArgumentException("scales has " + scales.length + " entries, sigmas " + sigmas.length);
        }
        long n = x0.size(0);
        long d = n == 0 ? 0 : x0.numel() / n;
        if (ids != null) {
            requireSameDevice("ids", ids, x0);
            requireType("ids", ids, ScalarType.Long);
            if (ids.dim() != 1 || ids.size(0) != n) {
                throw new IllegalArgumentException("ids must have shape [" + n + "], got " + shape(ids));
            }
        }
        requireFloat("out", out);
        requireSameDevice("out", out, x0);
        if (!shape(out).equals(Arrays.toString(outShape))) {
            throw new IllegalArgumentException("out must have shape " + Arrays.toString(outShape) + ", got " + shape(out));
        }
        try (DeviceArray sig = DeviceArray.of(sigmas, x0);
             DeviceArray sc = scales == null ? null : DeviceArray.of(scales, x0)) {
            int rc = NativeOps.diffrep_noise_inject(floats(x0), n, d, sig.pointer(),
                    sc == null ? null : sc.pointer(), sigmas.length,
                    ids == null ? null : ids.data_ptr_long(), seed, clean ? 1 : 0,
                    floats(out), device(x0), stream(x0));
            check(rc);
        }
        return out;
    }

    /** [S, N, ...] for x0 [N, ...] over S levels; checks that there is a batch dimension and a level. */
    private static long[] noiseShape(Tensor x0, float[] sigmas) {
        if (x0.dim() < 1) {
            throw new IllegalArgumentException("x0 must have a batch dimension, got a scalar");
        }
        if (sigmas == null || sigmas.length == 0) {
            throw new IllegalArgumentException("sigmas must hold at least one noise level");
        }
        long[] outShape = new long[(int) x0.dim() + 1];
        outShape[0] = sigmas.length;
        for (int i = 0; i < x0.dim(); i++) {
            outShape[i + 1] = x0.size(i);
        }
        return outShape;
    }

    /** Pools x [N, C, H, W] (or [N, C, L]) over its spatial positions in one pass. */
    public static Pooled pool(Tensor x, boolean withMax, boolean withActive, float threshold) {
        long[] ncs = spatial("x", x);
        long[] nc = {ncs[0], ncs[1]};
        Tensor mean = torch.empty(nc, x.options(), null);
        Tensor max = withMax ? torch.empty(nc, x.options(), null) : null;
        Tensor active = withActive ? torch.empty(nc, x.options(), null) : null;
        int rc = NativeOps.diffrep_pool(floats(x), ncs[0], ncs[1], ncs[2], floats(mean),
                max == null ? null : floats(max), active == null ? null : floats(active), threshold,
                device(x), stream(x));
        check(rc);
        return new Pooled(mean, max, active);
    }

    /** Top-k of each row of x [N, C]: sorted descending, ties to the lower index. */
    public static TopK topk(Tensor x, int k, Rank by) {
        requireFloat("x", x);
        if (x.dim() != 2) {
            throw new IllegalArgumentException("x must be [N, C], got " + shape(x));
        }
        long n = x.size(0), c = x.size(1);
        requireK(k, c);
        TopK out = allocTopK(x, n, k);
        int rc = NativeOps.diffrep_topk(floats(x), n, c, k, by.code, floats(out.values()),
                out.indices().data_ptr_long(), device(x), stream(x));
        check(rc);
        return out;
    }

    /** Spatial mean of x [N, C, H, W] and its top-k per row, in one pass over x. */
    public static PooledTopK poolTopk(Tensor x, int k, Rank by, boolean withMean) {
        long[] ncs = spatial("x", x);
        requireK(k, ncs[1]);
        Tensor mean = withMean ? torch.empty(new long[]{ncs[0], ncs[1]}, x.options(), null) : null;
        TopK out = allocTopK(x, ncs[0], k);
        int rc = NativeOps.diffrep_pool_topk(floats(x), ncs[0], ncs[1], ncs[2], k, by.code,
                mean == null ? null : floats(mean), floats(out.values()), out.indices().data_ptr_long(),
                device(x), stream(x));
        check(rc);
        return new PooledTopK(mean, out);
    }

    private static TopK allocTopK(Tensor like, long n, int k) {
        Tensor values = torch.empty(new long[]{n, k}, like.options(), null);
        TensorOptions longs = like.options().dtype(new ScalarTypeOptional(ScalarType.Long));
        Tensor indices = torch.empty(new long[]{n, k}, longs, null);
        return new TopK(values, indices);
    }

    private static void requireK(int k, long c) {
        if (k < 1 || k > c) {
            throw new IllegalArgumentException("k must be in [1, " + c + "], got " + k);
        }
    }

    /** [N, C, positions] of a tensor with at least 3 dimensions. */
    private static long[] spatial(String name, Tensor x) {
        requireFloat(name, x);
        if (x.dim() < 3) {
            throw new IllegalArgumentException(name + " must be [N, C, H, W] or [N, C, L], got " + shape(x));
        }
        long hw = 1;
        for (int i = 2; i < x.dim(); i++) {
            hw *= x.size(i);
        }
        if (hw < 1) {
            throw new IllegalArgumentException(name + " has no spatial positions: " + shape(x));
        }
        return new long[]{x.size(0), x.size(1), hw};
    }

    static void requireFloat(String name, Tensor t) {
        requireType(name, t, ScalarType.Float);
    }

    static void requireType(String name, Tensor t, ScalarType type) {
        if (t == null || t.isNull() || !t.defined()) {
            throw new IllegalArgumentException(name + " is not a defined tensor");
        }
        if (t.scalar_type().value != type.value) {
            throw new IllegalArgumentException(name + " must be " + type + ", got " + t.scalar_type());
        }
        if (!t.is_contiguous()) {
            throw new IllegalArgumentException(name + " must be contiguous (call .contiguous() first), shape "
                    + shape(t));
        }
        if (!t.is_cpu() && !t.is_cuda()) {
            throw new IllegalArgumentException(name + " must be on the CPU or a CUDA device, got "
                    + t.device().str().getString());
        }
        if (t.is_cuda() && !Devices.cudaKernelsUsable()) {
            throw new IllegalArgumentException(name + " is a CUDA tensor but the native library cannot run CUDA: "
                    + Devices.nativeCudaStatus());
        }
    }

    private static void requireSameDevice(String name, Tensor t, Tensor ref) {
        if (t.is_cuda() != ref.is_cuda() || (t.is_cuda() && t.device().index() != ref.device().index())) {
            throw new IllegalArgumentException(name + " must be on the same device as x0");
        }
    }

    static String shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return Arrays.toString(s);
    }

    private static FloatPointer floats(Tensor t) {
        return t.data_ptr_float();
    }

    private static int device(Tensor t) {
        return t.is_cuda() ? t.device().index() : NativeOps.DEVICE_CPU;
    }

    private static Pointer stream(Tensor t) {
        return t.is_cuda() ? CudaStreams.current(t.device().index()) : null;
    }

    private static void check(int rc) {
        if (rc == NativeOps.OK) {
            return;
        }
        String msg = NativeOps.diffrep_last_error().getString();
        if (rc == NativeOps.EINVAL) {
            throw new IllegalArgumentException(msg);
        }
        throw new IllegalStateException(msg);
    }

    /** A small float array on the device of a reference tensor, for the kernels' per-level arguments. */
    private record DeviceArray(Tensor tensor) implements AutoCloseable {
        static DeviceArray of(float[] values, Tensor like) {
            Tensor host = Tensors.fromFloats(values);
            return new DeviceArray(like.is_cuda() ? host.to(like.options(), false, false, null) : host);
        }

        FloatPointer pointer() {
            return tensor.data_ptr_float();
        }

        @Override
        public void close() {
            // Freed with the enclosing PointerScope; kept alive until the kernel is enqueued.
        }
    }
}
