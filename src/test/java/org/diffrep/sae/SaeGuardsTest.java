package org.diffrep.sae;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.LongStream;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.diffrep.InvalidInputException;
import org.diffrep.model.SafeTensors;

/**
 * SAE settings beyond the memory limit are refused before anything is allocated; training that
 * diverges saves nothing; SAE files with NaN weights or bad metadata are refused by name.
 */
class SaeGuardsTest {

    private static SaeConfig small(int dim) {
        return SaeConfig.builder().inputDim(dim).latents(32).k(4).batch(16).steps(10).seed(1).build();
    }

    @Test
    void latentsBeyondTheMemoryLimitAreRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> SaeTrainer.checkMemory(SaeConfig.builder().inputDim(784).latents(2_000_000_000).build(), 10_000));
        assertTrue(e.getMessage().startsWith("latents 2000000000 batch 256: "), e.getMessage());
        assertTrue(e.getMessage().contains("the limit is"), e.getMessage());
    }

    @Test
    void divergingTrainingNamesTheLearningRateAndReturnsNoSae() {
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(2);
            Tensor x = torch.randn(64, 8);
            SaeConfig c = SaeConfig.builder().inputDim(8).latents(32).k(4).kAux(32).lr(1e30).warmup(0).batch(16)
                    .steps(20).seed(1).build();
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> new SaeTrainer(c, null, 5).train(x, LongStream.range(0, 64).toArray(), "rows"));
            assertTrue(e.getMessage().startsWith("lr 1.0E30: SAE training diverged"), e.getMessage());
            assertTrue(e.getMessage().contains("Nothing was saved"), e.getMessage());
        }
    }

    @Test
    void saeFilesWithNanWeightsOrBadMetadataAreRefused(@TempDir Path dir) throws Exception {
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(2);
            TopKSae sae = new SaeTrainer(small(8), null, 5).train(torch.randn(64, 8), LongStream.range(0, 64).toArray(),
                    "rows").sae();
            Path good = dir.resolve("sae.safetensors");
            sae.save(good, Map.of());
            SafeTensors.Contents c = SafeTensors.read(good);

            Map<String, Tensor> tensors = new LinkedHashMap<>(c.tensors());
            tensors.put("W_dec", tensors.get("W_dec").clone().fill_(new Scalar(Double.POSITIVE_INFINITY)));
            Path nan = dir.resolve("nan.safetensors");
            SafeTensors.write(nan, tensors, c.metadata());
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> TopKSae.load(nan));
            assertTrue(e.getMessage().startsWith(nan + ": tensor 'W_dec' holds"), e.getMessage());

            Map<String, String> meta = new LinkedHashMap<>(c.metadata());
            meta.put("config", meta.get("config").replace("\"latents\":32", "\"latents\":\"many\""));
            Path cfg = dir.resolve("cfg.safetensors");
            SafeTensors.write(cfg, c.tensors(), meta);
            e = assertThrows(InvalidInputException.class, () -> TopKSae.load(cfg));
            assertTrue(e.getMessage().startsWith(cfg + ": metadata 'config'") && e.getMessage().contains("'latents'"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());

            meta = new LinkedHashMap<>(c.metadata());
            meta.put("input_scale", "NaN");
            Path scale = dir.resolve("scale.safetensors");
            SafeTensors.write(scale, c.tensors(), meta);
            e = assertThrows(InvalidInputException.class, () -> TopKSae.load(scale));
            assertTrue(e.getMessage().startsWith(scale + ": metadata 'input_scale' must be finite"), e.getMessage());

            meta = new LinkedHashMap<>(c.metadata());
            meta.remove("config");
            Path none = dir.resolve("none.safetensors");
            SafeTensors.write(none, c.tensors(), meta);
            e = assertThrows(InvalidInputException.class, () -> TopKSae.load(none));
            assertTrue(e.getMessage().startsWith(none + ": metadata lacks 'config'"), e.getMessage());
        }
    }
}
