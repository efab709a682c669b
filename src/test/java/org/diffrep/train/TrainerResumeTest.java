package org.diffrep.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;

class TrainerResumeTest {

    private static final String CONFIG = ModelFiles.configJson(new MlpDenoiser(new MlpDenoiser.Config(
            new long[]{8}, 2, 32, "silu", NoiseEmbedding.SINUSOIDAL, 8, Parametrisation.EDM)));

    private static ImageSource data() {
        torch.manual_seed(7);
        return new TensorImageSource(torch.randn(64, 8).tanh().retainReference());
    }

    @Test
    void resumedRunEqualsUninterruptedRun(@TempDir Path dir) throws Exception {
        try (PointerScope s = new PointerScope()) {
            ImageSource data = data();
            TrainConfig cfg = TrainConfig.builder().steps(12).batch(16).warmupSteps(4).emaDecay(0.9).seed(3)
                    .checkpointEvery(5).build();

            NetworkDenoiser straight = ModelFiles.build("mlp", CONFIG, 3);
            new Trainer(straight, cfg).run(data, dir.resolve("a.ckpt"), false, null);

            // Interrupted after 5 steps (the checkpoint interval), then resumed by a fresh process-like setup.
            NetworkDenoiser first = ModelFiles.build("mlp", CONFIG, 3);
            new Trainer(first, cfg.toBuilder().steps(5).build()).run(data, dir.resolve("b.ckpt"), false, null);
            NetworkDenoiser resumed = ModelFiles.build("mlp", CONFIG, 3);
            Trainer.Result r = new Trainer(resumed, cfg).run(data, dir.resolve("b.ckpt"), true, null);
            assertEquals(12, r.steps());

            Map<String, Tensor> a = straight.stateTensors();
            Map<String, Tensor> b = resumed.stateTensors();
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) {
                assertTrue(torch.equal(a.get(k), b.get(k)), "tensor " + k + " differs after resume");
            }
        }
    }

    @Test
    void lossDecreasesOnAFixedSet() throws Exception {
        try (PointerScope s = new PointerScope()) {
            // Four prototypes repeated: a set a small MLP can learn to denoise well.
            torch.manual_seed(11);
            ImageSource data = new TensorImageSource(torch.randn(4, 8).tanh().repeat(16, 1).retainReference());
            NetworkDenoiser m = ModelFiles.build("mlp", CONFIG, 1);
            TrainConfig cfg = TrainConfig.builder().steps(300).batch(32).lr(3e-3).warmupSteps(10).emaDecay(0.0)
                    .seed(1).checkpointEvery(0).build();
            double[] first = {Double.NaN};
            Trainer.Result r = new Trainer(m, cfg).run(data, null, false, rep -> {
                if (rep.step() <= 10) {
                    first[0] = Double.isNaN(first[0]) ? rep.loss() / 10 : first[0] + rep.loss() / 10;
                }
            });
            assertTrue(r.recentLoss() < 0.75 * first[0], "loss " + first[0] + " -> " + r.recentLoss());
        }
    }
}
