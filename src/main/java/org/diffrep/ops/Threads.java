package org.diffrep.ops;

import org.bytedeco.pytorch.global.torch;

/** One thread setting for LibTorch's intra-op pool and the native kernels' OpenMP threads. */
public final class Threads {

    private Threads() {
    }

    /** Sets both to {@code n} threads; n <= 0 means all cores. */
    public static void set(int n) {
        int threads = n > 0 ? n : Runtime.getRuntime().availableProcessors();
        torch.set_num_threads(threads);
        NativeOps.diffrep_set_num_threads(threads);
    }

    /** LibTorch's intra-op thread count. */
    public static int torchThreads() {
        return torch.get_num_threads();
    }

    /** The native kernels' thread count. */
    public static int kernelThreads() {
        return NativeOps.diffrep_get_num_threads();
    }
}
