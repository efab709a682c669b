package org.diffrep.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import org.diffrep.ops.Tensors;

class UNetTest {

    private static UNet tiny(long c, long h, long w, Parametrisation p) {
        torch.manual_seed(0);
        return new UNet(new UNet.Config(new long[]{c, h, w}, new int[]{8, 16}, 1, new int[]{h <= 16 ? 8 : 16},
                NoiseEmbedding.FOURIER, p));
    }

    @Test
    void mnistSizeIsPaddedAndCroppedWithTapsInOrder() {
        try (PointerScope s = new PointerScope()) {
            UNet m = new UNet(UNet.Config.defaults(1, 28, 28));
            assertEquals(List.of("enc.0", "enc.1", "enc.2", "mid", "dec.0", "dec.1", "dec.2", "out"), m.taps());
            Tensor x = torch.randn(2, 1, 28, 28);
            Tensor sigma = Tensors.fromFloats(new float[]{0.5f, 3f});
            Denoiser.Output o = m.forward(x, sigma, Set.copyOf(m.taps()), true);
            assertArrayEquals(new long[]{2, 1, 28, 28}, Tensors.shape(o.denoised()));
            assertArrayEquals(new long[]{2, 32, 32, 32}, Tensors.shape(o.taps().get("enc.0")));
            assertArrayEquals(new long[]{2, 64, 8, 8}, Tensors.shape(o.taps().get("mid")));
            assertArrayEquals(new long[]{2, 64, 8, 8}, Tensors.shape(o.taps().get("dec.0")));
            assertArrayEquals(new long[]{2, 32, 32, 32}, Tensors.shape(o.taps().get("dec.2")));
            assertArrayEquals(new long[]{2, 1, 28, 28}, Tensors.shape(o.taps().get("out")));
        }
    }

    @Test
    void threeChannelsAndEarlyStopAtMid() {
        try (PointerScope s = new PointerScope()) {
            UNet m = tiny(3, 16, 16, Parametrisation.VP);
            Tensor x = torch.randn(2, 3, 16, 16);
            Tensor sigma = Tensors.fromFloats(new float[]{0.1f, 1f});
            Denoiser.Output early = m.forward(x, sigma, Set.of("mid", "enc.0"), false);
            assertNull(early.denoised());
            assertEquals(Set.of("mid", "enc.0"), early.taps().keySet());
            Denoiser.Output full = m.forward(x, sigma, Set.of("mid"), true);
            assertArrayEquals(new long[]{2, 3, 16, 16}, Tensors.shape(full.denoised()));
            assertTrue(torch.allclose(early.taps().get("mid"), full.taps().get("mid")));
        }
    }

    @Test
    void freshNetworkDenoisesByShrinkage() {
        // Zero-initialised output conv: F = 0, so D = c_skip x exactly (EDM), a sanity check of the wrapper.
        try (PointerScope s = new PointerScope()) {
            UNet m = tiny(1, 16, 16, Parametrisation.EDM);
            Tensor x = torch.randn(1, 1, 16, 16);
            Tensor d = m.denoise(x, Tensors.fromFloats(new float[]{0.5f}));
            assertTrue(torch.allclose(d, x.mul(new org.bytedeco.pytorch.Scalar(0.5))));
        }
    }
}
