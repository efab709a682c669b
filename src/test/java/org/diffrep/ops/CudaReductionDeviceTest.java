package org.diffrep.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a GPU: examples/kernels/channel_max.cu, compiled with NVRTC and launched by {@link CudaSourceKernel} on
 * LibTorch's stream in the primary context, gives exactly the CPU reference ({@code amax} over H, W), for
 * contiguous and strided maps, more columns than one block and more rows than one grid. Skips without a GPU;
 * tools/device-check.sh runs it with {@code -Ddiffrep.requireGpu=true}, which turns the skip into a failure.
 */
class CudaReductionDeviceTest {

    @Test
    void channelMaxOnTheGpuEqualsTheCpuReference() throws Exception {
        boolean gpu = Devices.torchCudaAvailable() && CudaSourceKernel.nvrtcUnavailable() == null;
        if (Boolean.getBoolean("diffrep.requireGpu")) {
            assertTrue(gpu, "a GPU, LibTorch with CUDA and NVRTC are required here: "
                    + CudaSourceKernel.nvrtcUnavailable());
        }
        Assumptions.assumeTrue(gpu, "no GPU with LibTorch CUDA and NVRTC here");
        String src = Files.readString(Path.of("examples/kernels/channel_max.cu"));
        CudaSourceKernel k = CudaSourceKernel.compile(src, "channel_max.cu", "channel_max", 0);
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(21);
            Device cuda = new Device("cuda:0");
            // 300 columns: two blocks of 256; strided: a transposed view; 70,000 rows: two launches
            Tensor[] cases = {torch.randn(37, 300, 5, 7), torch.randn(37, 7, 300, 5).transpose(1, 2),
                    torch.randn(70_000, 3, 2, 2)};
            for (Tensor host : cases) {
                Tensor x = host.to(cuda, host.dtype(), false, false);
                if (host.is_contiguous()) {
                    x = x.contiguous();
                }
                Tensor rows = k.reduce(x, host.size(1)).cpu();
                Tensor expected = host.amax(new long[]{2, 3}, false).contiguous();
                assertArrayEquals(Tensors.toFloats(expected), Tensors.toFloats(rows),
                        "shape " + java.util.Arrays.toString(Tensors.shape(host)));
            }
        }
    }
}
