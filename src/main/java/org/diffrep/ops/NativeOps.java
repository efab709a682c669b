package org.diffrep.ops;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of {@code native/include/diffrep_ops.h}, one method per C function and
 * nothing else. Callers use {@link Kernels}, which checks tensors before they get here. Loading
 * checks the library's ABI version ({@link NativeAbi}) so that a library from another build fails
 * here, with a message, rather than in a kernel.
 */
@Platform(include = "diffrep_ops.h", link = "diffrep_ops")
public final class NativeOps {
    static {
        String jni = Loader.load();
        NativeAbi.check(diffrep_abi_version(), NativeAbi.EXPECTED, NativeAbi.libraryFile(jni));
    }

    private NativeOps() {
    }

    public static final int OK = 0, EINVAL = 1, ENOCUDA = 2, ECUDA = 3, ENOLIB = 4, EUSER = 5;
    public static final int DEVICE_CPU = -1;
    public static final int TOPK_VALUE = 0, TOPK_MAGNITUDE = 1;

    public static native int diffrep_abi_version();

    public static native int diffrep_cuda_compiled();

    public static native int diffrep_cuda_device_count();

    public static native @Cast("const char*") BytePointer diffrep_cuda_status();

    public static native void diffrep_set_num_threads(int n);

    public static native int diffrep_get_num_threads();

    public static native @Cast("const char*") BytePointer diffrep_last_error();

    public static native @Cast("const char*") BytePointer diffrep_cpu_isa();

    public static native @Cast("const char*") BytePointer diffrep_cpu_isa_status();

    public static native int diffrep_set_cpu_isa(@Cast("const char*") BytePointer isa);

    public static native int diffrep_noise_inject(@Const FloatPointer x0, long n, long d,
            @Const FloatPointer sigmas, @Const FloatPointer scales, long s,
            @Cast("const int64_t*") LongPointer ids, @Cast("uint64_t") long seed, int clean,
            FloatPointer out, int device, Pointer stream);

    public static native int diffrep_pool(@Const FloatPointer x, long n, long c, long hw,
            FloatPointer mean, FloatPointer max, FloatPointer active, float threshold,
            int device, Pointer stream);

    public static native int diffrep_topk(@Const FloatPointer x, long n, long c, long k, int by,
            FloatPointer values, @Cast("int64_t*") LongPointer indices, int device, Pointer stream);

    public static native int diffrep_pool_topk(@Const FloatPointer x, long n, long c, long hw, long k,
            int by, FloatPointer mean, FloatPointer values, @Cast("int64_t*") LongPointer indices,
            int device, Pointer stream);

    public static native int diffrep_ext_rows(@Cast("const char*") BytePointer library,
            @Cast("const char*") BytePointer symbol, @Cast("const int64_t*") LongPointer mapShape, int ndim,
            @Cast("int64_t*") LongPointer rows);

    public static native int diffrep_ext_reduce(@Cast("const char*") BytePointer library,
            @Cast("const char*") BytePointer symbol, @Const FloatPointer x, @Cast("const int64_t*") LongPointer shape,
            @Cast("const int64_t*") LongPointer strides, int ndim, FloatPointer out, long f, int device,
            Pointer stream);
}
