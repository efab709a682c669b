package org.diffrep.ops;

import org.bytedeco.pytorch.global.torch;

/** Which devices can run what: LibTorch's view of CUDA and the native library's. */
public final class Devices {

    private Devices() {
    }

    /** True when the native library has CUDA kernels and the CUDA runtime sees a device. */
    public static boolean cudaKernelsUsable() {
        return NativeOps.diffrep_cuda_compiled() == 1 && NativeOps.diffrep_cuda_device_count() > 0;
    }

    /** The native library's own line on CUDA. */
    public static String nativeCudaStatus() {
        return NativeOps.diffrep_cuda_status().getString();
    }

    /** True when LibTorch was built with CUDA and sees a GPU (the gpu Maven profile). */
    public static boolean torchCudaAvailable() {
        try {
            return torch.cuda_is_available();
        } catch (Throwable t) {
            return false;
        }
    }

    /** The device to run on by default: "cuda" when both LibTorch and the kernels can use a GPU, else "cpu". */
    public static String defaultDevice() {
        return torchCudaAvailable() && cudaKernelsUsable() ? "cuda" : "cpu";
    }
}
