package org.diffrep.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.diffrep.InvalidInputException;
import org.diffrep.model.Finite;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.SafeTensors;

/**
 * Training refuses what it cannot do well before it starts (a batch beyond the memory limit, a
 * checkpoint made with other settings) and stops, saving nothing, when the weights diverge.
 */
class TrainingGuardsTest {

    private static final MlpDenoiser.Config CONFIG = new MlpDenoiser.Config(new long[]{8}, 1, 16, "silu",
            NoiseEmbedding.SINUSOIDAL, 8, Parametrisation.EDM);

    private static ImageSource data() {
        torch.manual_seed(7);
        return new TensorImageSource(torch.randn(32, 8).tanh().retainReference());
    }

    private static TrainConfig config(int steps, int batch, double lr, int checkpointEvery) {
        return TrainConfig.builder().steps(steps).batch(batch).lr(lr).warmupSteps(0).emaDecay(0.9).seed(3)
                .checkpointEvery(checkpointEvery).build();
    }

    @Test
    void batchBeyondTheMemoryLimitIsRefusedBeforeAllocating() {
        try (PointerScope s = new PointerScope()) {
            NetworkDenoiser net = ModelFiles.build(CONFIG, 0);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> new Trainer(net, config(10, 2_000_000_000, 1e-3, 0)));
            assertTrue(e.getMessage().startsWith("batch 2000000000: "), e.getMessage());
            assertTrue(e.getMessage().contains("the limit is"), e.getMessage());
        }
    }

    @Test
    void divergingRunStopsNamingStepAndLearningRateAndSavesNothing(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("m.ckpt");
        try (PointerScope s = new PointerScope()) {
            NetworkDenoiser net = ModelFiles.build(CONFIG, 0);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> new Trainer(net, config(20, 8, 1e30, 1)).run(data(), ckpt, false, null));
            assertTrue(e.getMessage().startsWith("lr 1.0E30: training diverged: "), e.getMessage());
            assertTrue(e.getMessage().matches(".* (at|after) step \\d+.*"), e.getMessage());
            assertTrue(e.getMessage().contains("Nothing was saved"), e.getMessage());
            // step 1 starts from sane weights: its checkpoint was written, and holds finite numbers only;
            // the steps after it diverged and wrote nothing
            assertTrue(Files.exists(ckpt));
            SafeTensors.Contents c = SafeTensors.read(ckpt);
            for (Map.Entry<String, Tensor> t : c.tensors().entrySet()) {
                assertTrue(Finite.all(t.getValue()), "checkpoint tensor " + t.getKey() + " is not finite");
            }
            String step = c.metadata().get(Checkpoint.STEP);
            assertTrue(e.getMessage().contains(ckpt + " is left as it was (step " + step + ")"), e.getMessage());
        }
    }

    @Test
    void resumeRefusesChangedSettingsButAllowsMoreSteps(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("m.ckpt");
        Map<String, Object> provenance = new LinkedHashMap<>(Map.of("data", "a", "trainCount", 32));
        try (PointerScope s = new PointerScope()) {
            ImageSource data = data();
            new Trainer(ModelFiles.build(CONFIG, 0), config(4, 8, 1e-3, 2)).provenance(provenance)
                    .run(data, ckpt, false, null);
            assertTrue(Files.exists(ckpt));

            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> new Trainer(ModelFiles.build(CONFIG, 0), config(6, 16, 1e-2, 2)).provenance(provenance)
                            .run(data, ckpt, true, null));
            assertTrue(e.getMessage().startsWith("resume: " + ckpt), e.getMessage());
            assertTrue(e.getMessage().contains("batch was 8, now 16"), e.getMessage());
            assertTrue(e.getMessage().contains("lr was 0.001, now 0.01"), e.getMessage());

            Map<String, Object> otherData = new LinkedHashMap<>(provenance);
            otherData.put("data", "b");
            e = assertThrows(InvalidInputException.class,
                    () -> new Trainer(ModelFiles.build(CONFIG, 0), config(6, 8, 1e-3, 2)).provenance(otherData)
                            .run(data, ckpt, true, null));
            assertTrue(e.getMessage().contains("data was a, now b"), e.getMessage());

            NetworkDenoiser bigger = ModelFiles.build(new MlpDenoiser.Config(new long[]{8}, 1, 32, "silu",
                    NoiseEmbedding.SINUSOIDAL, 8, Parametrisation.EDM), 0);
            e = assertThrows(InvalidInputException.class,
                    () -> new Trainer(bigger, config(6, 8, 1e-3, 2)).run(data, ckpt, true, null));
            assertTrue(e.getMessage().contains("another architecture"), e.getMessage());

            // the same settings with more steps (and another checkpoint interval) continue
            Trainer.Result r = new Trainer(ModelFiles.build(CONFIG, 0), config(6, 8, 1e-3, 3)).provenance(provenance)
                    .run(data, ckpt, true, null);
            assertEquals(6, r.steps());
        }
    }

    @Test
    void checkpointWithBadMetadataOrNanTensorsIsRefused(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("m.ckpt");
        try (PointerScope s = new PointerScope()) {
            ImageSource data = data();
            new Trainer(ModelFiles.build(CONFIG, 0), config(2, 8, 1e-3, 2)).run(data, ckpt, false, null);
            SafeTensors.Contents c = SafeTensors.read(ckpt);

            Map<String, String> meta = new LinkedHashMap<>(c.metadata());
            meta.put(Checkpoint.STEP, "two");
            Path bad = dir.resolve("bad.ckpt");
            SafeTensors.write(bad, c.tensors(), meta);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> new Trainer(ModelFiles.build(CONFIG, 0), config(4, 8, 1e-3, 2)).run(data, bad, true, null));
            assertTrue(e.getMessage().contains(bad + ": __metadata__." + Checkpoint.STEP) && e.getMessage().contains("'two'"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("For input string"), e.getMessage());

            Map<String, Tensor> tensors = new LinkedHashMap<>(c.tensors());
            tensors.put("ema.head.bias", tensors.get("ema.head.bias").clone()
                    .fill_(new org.bytedeco.pytorch.Scalar(Double.NaN)));
            Path nan = dir.resolve("nan.ckpt");
            SafeTensors.write(nan, tensors, c.metadata());
            e = assertThrows(InvalidInputException.class,
                    () -> new Trainer(ModelFiles.build(CONFIG, 0), config(4, 8, 1e-3, 2)).run(data, nan, true, null));
            assertTrue(e.getMessage().contains(nan + ": tensor 'ema.head.bias'"), e.getMessage());
        }
    }
}
