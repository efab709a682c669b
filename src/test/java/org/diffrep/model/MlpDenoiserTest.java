package org.diffrep.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import org.diffrep.ops.Tensors;

class MlpDenoiserTest {

    private static MlpDenoiser small(Parametrisation p) {
        return (MlpDenoiser) ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(
                new MlpDenoiser.Config(new long[]{1, 4, 4}, 2, 16, "relu", NoiseEmbedding.FOURIER, 8, p))), 1);
    }

    @Test
    void shapesAndTapsInForwardOrder() {
        try (PointerScope s = new PointerScope()) {
            MlpDenoiser m = small(Parametrisation.EDM);
            assertEquals(List.of("enc.0", "enc.1", "out"), m.taps());
            Tensor x = torch.randn(3, 1, 4, 4);
            Tensor sigma = Tensors.fromFloats(new float[]{0.1f, 1f, 10f});
            Denoiser.Output o = m.forward(x, sigma, Set.of("enc.0", "enc.1", "out"), true);
            assertArrayEquals(new long[]{3, 1, 4, 4}, Tensors.shape(o.denoised()));
            assertArrayEquals(new long[]{3, 16}, Tensors.shape(o.taps().get("enc.1")));
            assertArrayEquals(new long[]{3, 1, 4, 4}, Tensors.shape(o.taps().get("out")));
        }
    }

    @Test
    void stopsAtDeepestTapWhenDenoisedNotWanted() {
        try (PointerScope s = new PointerScope()) {
            MlpDenoiser m = small(Parametrisation.VP);
            Tensor x = torch.randn(2, 1, 4, 4);
            Tensor sigma = Tensors.fromFloats(new float[]{0.5f, 2f});
            Denoiser.Output early = m.forward(x, sigma, Set.of("enc.0"), false);
            assertNull(early.denoised());
            assertEquals(Set.of("enc.0"), early.taps().keySet());
            Denoiser.Output full = m.forward(x, sigma, Set.of("enc.0"), true);
            assertTrue(torch.equal(early.taps().get("enc.0"), full.taps().get("enc.0")));
        }
    }

    @Test
    void unknownTapListsAvailableOnes() {
        try (PointerScope s = new PointerScope()) {
            MlpDenoiser m = small(Parametrisation.EDM);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(torch.randn(1, 1, 4, 4), Tensors.fromFloats(new float[]{1f}), Set.of("mid"), false));
            assertTrue(e.getMessage().contains("enc.0, enc.1, out"), e.getMessage());
        }
    }
}
