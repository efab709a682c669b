package org.diffrep.ops;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * LibTorch's current CUDA stream, so that our kernels queue behind LibTorch's own work. Only
 * loaded for CUDA tensors, so a CPU-only installation never touches the CUDA bindings.
 */
final class CudaStreams {

    private CudaStreams() {
    }

    static Pointer current(int device) {
        return torch_cuda.getCurrentCUDAStream((byte) device).stream();
    }
}
