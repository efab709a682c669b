package org.diffrep.ops;

import org.bytedeco.openblas.global.openblas_nolapack;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;

/**
 * One thread setting for LibTorch's intra-op pool, the native kernels' OpenMP threads and OpenBLAS.
 *
 * <p>OpenBLAS (LibTorch's BLAS in the presets) runs its own pthread pool whose idle workers spin for
 * a while after every call. Between LibTorch's OpenMP regions (convolutions, norms, our kernels)
 * those spinning workers take cores away, which halved UNet and TorchScript forwards on 2 cores
 * (docs/PERFORMANCE.md). So OpenBLAS gets 1 thread by default; LibTorch's own OpenMP threads still
 * use every core. {@code -Ddiffrep.blas.threads=N} or {@code DIFFREP_BLAS_THREADS=N} overrides it
 * (0 = as many as the other pools) for work that is mostly large matrix products.
 */
public final class Threads {

    /** System property naming OpenBLAS's thread count; the environment variable is its fallback. */
    public static final String BLAS_PROPERTY = "diffrep.blas.threads";

    private Threads() {
    }

    /** Sets LibTorch and the kernels to {@code n} threads (n <= 0: all cores) and OpenBLAS as above. */
    public static void set(int n) {
        int threads = n > 0 ? n : Runtime.getRuntime().availableProcessors();
        torch.set_num_threads(threads);
        NativeOps.diffrep_set_num_threads(threads);
        int blas = blasThreadsSetting(threads);
        openblas_nolapack.blas_set_num_threads(blas);
    }

    /**
     * Runs {@code work} with OpenBLAS at LibTorch's thread count, then restores the previous count: for
     * phases made of large matrix products (SAE training), where a parallel GEMM is worth more than the
     * cores its idle workers steal from the OpenMP regions in between.
     */
    public static <T> T withParallelBlas(java.util.function.Supplier<T> work) {
        try (BlasSetting b = parallelBlas()) {
            return work.get();
        }
    }

    /** The same as a try-with-resources handle: OpenBLAS parallel until {@code close()}. */
    public static BlasSetting parallelBlas() {
        int before = blasThreads();
        openblas_nolapack.blas_set_num_threads(Math.max(before, torchThreads()));
        return () -> openblas_nolapack.blas_set_num_threads(before);
    }

    /** Restores OpenBLAS's previous thread count. */
    public interface BlasSetting extends AutoCloseable {
        @Override
        void close();
    }

    /** LibTorch's intra-op thread count. */
    public static int torchThreads() {
        return torch.get_num_threads();
    }

    /** The native kernels' thread count. */
    public static int kernelThreads() {
        return NativeOps.diffrep_get_num_threads();
    }

    /** OpenBLAS's thread count. */
    public static int blasThreads() {
        return openblas_nolapack.blas_get_num_threads();
    }

    static int blasThreadsSetting(int threads) {
        String v = System.getProperty(BLAS_PROPERTY, System.getenv("DIFFREP_BLAS_THREADS"));
        if (v == null || v.isBlank()) {
            return 1;
        }
        try {
            int b = Integer.parseInt(v.trim());
            return b <= 0 ? threads : b;
        } catch (NumberFormatException e) {
            throw new InvalidInputException(BLAS_PROPERTY + " / DIFFREP_BLAS_THREADS must be an integer, got '" + v + "'");
        }
    }
}
