package org.diffrep.ops;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A reduction function in a user's shared library, called through {@code diffrep_ext_reduce}
 * (native/include/diffrep_ops.h, docs/KERNELS.md): the library is dlopened by diffrep's own
 * native library, {@code symbol} maps [B, C, H, W] to [B, F] and {@code symbol_rows} gives F.
 * Every argument is checked here, before native code sees it; a missing library or function is a
 * {@link UserKernelException} of kind {@link UserKernelException.Kind#MISSING} naming it.
 */
public final class SharedLibraryKernel {

    private static final Pattern SYMBOL = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final Path library;
    private final String symbol;

    /**
     * @param library the .so file (made absolute: dlopen must not search the library path)
     * @param symbol  the C name of the reduction function; its row count is {@code symbol + "_rows"}
     */
    public SharedLibraryKernel(Path library, String symbol) {
        if (symbol == null || !SYMBOL.matcher(symbol).matches()) {
            throw new IllegalArgumentException("symbol must be a C identifier, got '" + symbol + "'");
        }
        this.library = library.toAbsolutePath().normalize();
        this.symbol = symbol;
        if (!Files.isRegularFile(this.library)) {
            throw new UserKernelException(UserKernelException.Kind.MISSING,
                    "the shared library " + this.library + " does not exist");
        }
    }

    public Path library() {
        return library;
    }

    public String symbol() {
        return symbol;
    }

    /** F, the row length for a map of shape {@code mapShape} ([C, H, W] or [C]), from {@code symbol_rows}. */
    public long rows(long[] mapShape) {
        if (mapShape.length < 1 || mapShape.length > 8) {
            throw new IllegalArgumentException("a map shape has 1 to 8 dimensions, got " + mapShape.length);
        }
        for (long d : mapShape) {
            if (d < 1) {
                throw new IllegalArgumentException("map shape sizes must be >= 1");
            }
        }
        try (BytePointer lib = new BytePointer(library.toString()); BytePointer sym = new BytePointer(symbol);
             LongPointer shape = new LongPointer(mapShape); LongPointer out = new LongPointer(1)) {
            check(NativeOps.diffrep_ext_rows(lib, sym, shape, mapShape.length, out));
            return out.get();
        }
    }

    /**
     * Runs the function on {@code x} (float32, [B, C, H, W] or [B, C], CPU or CUDA) into a new
     * contiguous float32 [B, f] on x's device, on LibTorch's current stream for CUDA.
     */
    public Tensor reduce(Tensor x, long f) {
        Kernels.requireFloat("x", x);
        if (x.dim() != 4 && x.dim() != 2) {
            throw new IllegalArgumentException("x must be [B, C, H, W] or [B, C], got " + Kernels.shape(x));
        }
        if (f < 1) {
            throw new IllegalArgumentException("f must be >= 1, got " + f);
        }
        int nd = (int) x.dim();
        long[] shape = new long[nd], strides = new long[nd];
        for (int i = 0; i < nd; i++) {
            shape[i] = x.size(i);
            strides[i] = x.stride(i);
        }
        Tensor out = torch.empty(new long[]{shape[0], f}, x.options(), null);
        int device = x.is_cuda() ? x.device().index() : NativeOps.DEVICE_CPU;
        Pointer stream = x.is_cuda() ? CudaStreams.current(device) : null;
        try (BytePointer lib = new BytePointer(library.toString()); BytePointer sym = new BytePointer(symbol);
             LongPointer sp = new LongPointer(shape); LongPointer st = new LongPointer(strides)) {
            check(NativeOps.diffrep_ext_reduce(lib, sym, x.data_ptr_float(), sp, st, nd, out.data_ptr_float(), f,
                    device, stream));
        }
        return out;
    }

    private static void check(int rc) {
        if (rc == NativeOps.OK) {
            return;
        }
        String msg = NativeOps.diffrep_last_error().getString();
        switch (rc) {
            case NativeOps.ENOLIB -> throw new UserKernelException(UserKernelException.Kind.MISSING, msg);
            case NativeOps.EINVAL -> throw new IllegalArgumentException(msg);
            default -> throw new UserKernelException(UserKernelException.Kind.FAILED, msg);
        }
    }
}
