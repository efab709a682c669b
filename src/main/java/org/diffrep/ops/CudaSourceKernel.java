package org.diffrep.ops;

import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A CUDA C++ reduction kernel given as source, compiled at run time with NVRTC and launched with
 * the CUDA driver API, all through the JavaCPP CUDA presets (docs/KERNELS.md).
 *
 * <p>The kernel has C linkage and the signature
 * <pre>
 * extern "C" __global__ void NAME(const float* x, float* out, long long b, long long c, long long h, long long w,
 *                                 long long sb, long long sc, long long sh, long long sw, long long f)
 * </pre>
 * x is the map [b, c, h, w] with strides (sb, sc, sh, sw) in elements, out the contiguous rows [b, f].
 * It is launched with blocks of {@link #BLOCK} threads on a grid of (ceil(f / BLOCK), rows) blocks:
 * {@code blockIdx.y} is the row, {@code blockIdx.x * blockDim.x + threadIdx.x} the output column
 * (the kernel returns for columns >= f). More than 65,535 rows go in several launches, x and out
 * advanced by whole rows.
 *
 * <p>Modules load into the device's <em>primary</em> context ({@code cuDevicePrimaryCtxRetain}),
 * the one the CUDA runtime and so LibTorch use, and launch on LibTorch's current stream; the
 * context is retained for the life of the process, since a module outlives its context otherwise
 * (an unloaded context gives silent all-zero results, bytedeco/javacpp-presets#1762).
 */
public final class CudaSourceKernel {

    /** Threads per block of every launch. */
    public static final int BLOCK = 256;
    /** The virtual architecture NVRTC compiles for when no GPU says which (compile checks). */
    public static final String DEFAULT_ARCH = "compute_80";
    private static final int MAX_GRID_Y = 65535;

    private static volatile String unavailable;
    private static volatile boolean loaded;
    private static final Map<Integer, CUctx_st> PRIMARY = new HashMap<>();

    private final String name;
    private final String function;
    private final String ptx;
    private final Map<Integer, CUfunc_st> functions = new HashMap<>();

    private CudaSourceKernel(String name, String function, String ptx) {
        this.name = name;
        this.function = function;
        this.ptx = ptx;
    }

    /**
     * Loads NVRTC (and the CUDA presets' runtime glue); null when it loaded, else why not. Set
     * {@code DIFFREP_NVRTC} to a {@code libnvrtc.so.13} to use one outside the library path (a pip
     * {@code nvidia-cuda-nvrtc} wheel, say).
     */
    public static synchronized String nvrtcUnavailable() {
        if (loaded) {
            return null;
        }
        if (unavailable != null) {
            return unavailable;
        }
        try {
            String explicit = System.getenv("DIFFREP_NVRTC");
            if (explicit != null && !explicit.isEmpty()) {
                Path lib = Path.of(explicit).toAbsolutePath();
                System.load(lib.toString());
                // NVRTC dlopens its builtins by name: loaded first from the same folder, they are found.
                try (var dir = java.nio.file.Files.newDirectoryStream(lib.getParent(), "libnvrtc-builtins.so.*")) {
                    for (Path builtins : dir) {
                        if (!builtins.getFileName().toString().contains(".alt.")) {
                            System.load(builtins.toString());
                        }
                    }
                }
            }
            Loader.load(nvrtc.class);
            loaded = true;
            return null;
        } catch (Throwable t) {
            Throwable root = t;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            unavailable = "NVRTC cannot be loaded (" + root.getMessage() + "); it needs libnvrtc.so.13 and the CUDA"
                    + " driver's libcuda.so.1 (build with -Pgpu, or set DIFFREP_NVRTC to a libnvrtc.so.13)";
            return unavailable;
        }
    }

    /**
     * Compiles {@code source} (named {@code fileName} in messages) with NVRTC for the virtual
     * architecture {@code arch} (e.g. {@code compute_90}) to PTX.
     *
     * @throws UserKernelException {@link UserKernelException.Kind#COMPILE} with NVRTC's log when the source does not
     *                             compile; {@link UserKernelException.Kind#UNAVAILABLE} without NVRTC
     */
    public static String compilePtx(String source, String fileName, String arch) {
        String why = nvrtcUnavailable();
        if (why != null) {
            throw new UserKernelException(UserKernelException.Kind.UNAVAILABLE, why);
        }
        _nvrtcProgram prog = new _nvrtcProgram();
        try (BytePointer src = new BytePointer(source); BytePointer name = new BytePointer(fileName)) {
            nvrtcCheck(nvrtc.nvrtcCreateProgram(prog, src, name, 0, (PointerPointer<?>) null,
                    (PointerPointer<?>) null), "nvrtcCreateProgram");
        }
        try (PointerPointer<BytePointer> opts = new PointerPointer<>("--gpu-architecture=" + arch, "--std=c++17")) {
            int rc = nvrtc.nvrtcCompileProgram(prog, 2, opts);
            String log = programLog(prog);
            if (rc != nvrtc.NVRTC_SUCCESS) {
                throw new UserKernelException(UserKernelException.Kind.COMPILE, fileName + " does not compile ("
                        + nvrtc.nvrtcGetErrorString(rc).getString() + "):\n" + log.strip(), log, null);
            }
            SizeTPointer size = new SizeTPointer(1);
            nvrtcCheck(nvrtc.nvrtcGetPTXSize(prog, size), "nvrtcGetPTXSize");
            BytePointer ptx = new BytePointer(size.get());
            nvrtcCheck(nvrtc.nvrtcGetPTX(prog, ptx), "nvrtcGetPTX");
            return ptx.getString();
        } finally {
            nvrtc.nvrtcDestroyProgram(prog);
        }
    }

    /**
     * Compiles {@code source} for the GPU of {@code device} and returns a kernel that launches
     * {@code function}; nothing is loaded onto the device until the first {@link #reduce}.
     */
    public static CudaSourceKernel compile(String source, String fileName, String function, int device) {
        requireGpu(fileName, device);
        String arch = "compute_" + attribute(device, cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
                + attribute(device, cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        return new CudaSourceKernel(fileName, function, compilePtx(source, fileName, arch));
    }

    /** Throws a clear {@link UserKernelException.Kind#UNAVAILABLE} unless CUDA device {@code device} can run kernels. */
    public static void requireGpu(String what, int device) {
        String why = nvrtcUnavailable();
        int count = 0;
        if (why == null) {
            int rc = cudart.cuInit(0);
            int[] n = new int[1];
            if (rc == 0 && cudart.cuDeviceGetCount(n) == 0) {
                count = n[0];
            } else {
                why = "the CUDA driver reports " + driverError(rc == 0 ? cudart.CUDA_ERROR_NO_DEVICE : rc);
            }
        }
        if (why != null || device < 0 || device >= count) {
            throw new UserKernelException(UserKernelException.Kind.UNAVAILABLE, "the CUDA kernel " + what
                    + " needs a GPU, but " + (why != null ? why : "CUDA device " + device + " is not there ("
                    + count + " device(s))") + ". Without a GPU, use a Java reduction (ServiceLoader) or a"
                    + " shared-library reduction (--kernel-file NAME=lib.so), or a built-in one"
                    + " (mean, mean+max, none); see docs/KERNELS.md");
        }
    }

    /** The PTX NVRTC produced. */
    public String ptx() {
        return ptx;
    }

    /**
     * Runs the kernel on a CUDA tensor x (float32, [B, C, H, W] or [B, C]) into a new contiguous float32 [B, f]
     * on the same device, on LibTorch's current stream (asynchronous, like LibTorch's own kernels).
     */
    public Tensor reduce(Tensor x, long f) {
        // Strided maps are fine (the kernel gets the strides); the native library's own CUDA support is not needed.
        if (x == null || x.isNull() || !x.defined()) {
            throw new IllegalArgumentException("x is not a defined tensor");
        }
        if (x.scalar_type().value != torch.ScalarType.Float.value) {
            throw new IllegalArgumentException("x must be Float, got " + x.scalar_type());
        }
        if (!x.is_cuda()) {
            throw new IllegalArgumentException("x must be a CUDA tensor for the CUDA kernel " + name);
        }
        if (x.dim() != 4 && x.dim() != 2) {
            throw new IllegalArgumentException("x must be [B, C, H, W] or [B, C], got " + Kernels.shape(x));
        }
        if (f < 1) {
            throw new IllegalArgumentException("f must be >= 1, got " + f);
        }
        int device = x.device().index();
        boolean four = x.dim() == 4;
        long b = x.size(0), c = x.size(1), h = four ? x.size(2) : 1, w = four ? x.size(3) : 1;
        long sb = x.stride(0), sc = x.stride(1), sh = four ? x.stride(2) : 0, sw = four ? x.stride(3) : 0;
        Tensor out = torch.empty(new long[]{b, f}, x.options(), null);
        CUstream_st stream = new CUstream_st(CudaStreams.current(device));
        synchronized (CudaSourceKernel.class) {
            CUctx_st ctx = primary(device);
            driverCheck(cudart.cuCtxPushCurrent(ctx), "cuCtxPushCurrent");
            try {
                CUfunc_st fn = function(device);
                long gridX = (f + BLOCK - 1) / BLOCK;
                if (gridX > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("f=" + f + " needs more blocks than a grid holds");
                }
                for (long r0 = 0; r0 < b; r0 += MAX_GRID_Y) {
                    long rows = Math.min(MAX_GRID_Y, b - r0);
                    long[] args = {x.data_ptr().address() + 4 * r0 * sb, out.data_ptr().address() + 4 * r0 * f,
                            rows, c, h, w, sb, sc, sh, sw, f};
                    try (PointerPointer<LongPointer> params = new PointerPointer<>(args.length)) {
                        LongPointer[] values = new LongPointer[args.length];
                        for (int i = 0; i < args.length; i++) {
                            values[i] = new LongPointer(1).put(args[i]);
                            params.put(i, values[i]);
                        }
                        driverCheck(cudart.cuLaunchKernel(fn, (int) gridX, (int) rows, 1, BLOCK, 1, 1, 0, stream,
                                params, (PointerPointer<?>) null), "cuLaunchKernel " + function + " of " + name);
                        for (LongPointer v : values) {
                            v.close();
                        }
                    }
                }
            } finally {
                cudart.cuCtxPopCurrent(new CUctx_st());
            }
        }
        return out;
    }

    /** The function in this kernel's module on {@code device}, loading the PTX there the first time. */
    private CUfunc_st function(int device) {
        CUfunc_st fn = functions.get(device);
        if (fn == null) {
            CUmod_st module = new CUmod_st();
            try (BytePointer image = new BytePointer(ptx)) {
                driverCheck(cudart.cuModuleLoadData(module, image), "cuModuleLoadData of " + name);
            }
            fn = new CUfunc_st();
            int rc = cudart.cuModuleGetFunction(fn, module, function);
            if (rc != 0) {
                throw new UserKernelException(UserKernelException.Kind.MISSING, name + " has no kernel '" + function
                        + "' (declare it extern \"C\" __global__): " + driverError(rc));
            }
            functions.put(device, fn);
        }
        return fn;
    }

    /** The device's primary context, retained once and kept for the life of the process. */
    private static CUctx_st primary(int device) {
        CUctx_st ctx = PRIMARY.get(device);
        if (ctx == null) {
            driverCheck(cudart.cuInit(0), "cuInit");
            int[] dev = new int[1];
            driverCheck(cudart.cuDeviceGet(dev, device), "cuDeviceGet");
            ctx = new CUctx_st();
            driverCheck(cudart.cuDevicePrimaryCtxRetain(ctx, dev[0]), "cuDevicePrimaryCtxRetain");
            PRIMARY.put(device, ctx);
        }
        return ctx;
    }

    private static int attribute(int device, int attribute) {
        int[] dev = new int[1];
        driverCheck(cudart.cuDeviceGet(dev, device), "cuDeviceGet");
        int[] v = new int[1];
        driverCheck(cudart.cuDeviceGetAttribute(v, attribute, dev[0]), "cuDeviceGetAttribute");
        return v[0];
    }

    private static String programLog(_nvrtcProgram prog) {
        SizeTPointer size = new SizeTPointer(1);
        if (nvrtc.nvrtcGetProgramLogSize(prog, size) != nvrtc.NVRTC_SUCCESS || size.get() <= 1) {
            return "";
        }
        BytePointer log = new BytePointer(size.get());
        nvrtc.nvrtcGetProgramLog(prog, log);
        return log.getString();
    }

    private static void nvrtcCheck(int rc, String what) {
        if (rc != nvrtc.NVRTC_SUCCESS) {
            throw new UserKernelException(UserKernelException.Kind.FAILED, what + ": "
                    + nvrtc.nvrtcGetErrorString(rc).getString());
        }
    }

    private static void driverCheck(int rc, String what) {
        if (rc != 0) {
            throw new UserKernelException(UserKernelException.Kind.FAILED, what + ": " + driverError(rc));
        }
    }

    private static String driverError(int rc) {
        try (PointerPointer<BytePointer> p = new PointerPointer<>(1)) {
            if (cudart.cuGetErrorString(rc, p) == 0 && p.get(0) != null) {
                return new BytePointer(p.get(0)).getString() + " (CUresult " + rc + ")";
            }
        } catch (Throwable ignored) {
            // fall through to the bare code
        }
        return "CUresult " + rc;
    }
}
