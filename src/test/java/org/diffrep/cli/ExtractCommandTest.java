package org.diffrep.cli;

import org.diffrep.extract.FeatureStore;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExtractCommandTest {

    @TempDir
    static Path dir;
    static Path modelFile;

    @BeforeAll
    static void saveModel() throws Exception {
        MlpDenoiser.Config c = new MlpDenoiser.Config(new long[]{1, 28, 28}, 2, 32, "silu", "sinusoidal", 16,
                Parametrisation.EDM);
        NetworkDenoiser m = ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(c)), 5);
        modelFile = dir.resolve("mlp.safetensors");
        ModelFiles.save(m, modelFile, Map.of("purpose", "ExtractCommandTest"));
    }

    private static String[] args(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("--threads", "2", "extract", "--model", modelFile.toString(),
                "--data", "builtin:mnist", "--layers", "enc.1", "--sigmas", "0.1,1", "--limit", "50",
                "--batch", "16", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void extractsAStoreAndRefusesToOverwriteIt() {
        Path out = dir.resolve("store");
        assertEquals(0, Main.run(args(out, "--pool", "mean+max", "--topk", "4")));
        FeatureStore s = FeatureStore.open(out);
        assertEquals(50, s.count());
        assertEquals(32, s.features("enc.1", 1)[0].length);
        assertEquals(2, Main.run(args(out)), "an existing store without --resume is an input error");
        assertEquals(0, Main.run(args(out, "--pool", "mean+max", "--topk", "4", "--resume")), "resuming a complete store");
        assertEquals(2, Main.run(args(out, "--resume")), "other settings are refused");
    }

    @Test
    void badOptionsAreInputErrors() {
        assertEquals(2, Main.run(args(dir.resolve("a"), "--layers", "mid")), "unknown layer");
        assertEquals(2, Main.run(args(dir.resolve("b"), "--pool", "median")), "unknown pooling");
        assertEquals(2, Main.run(args(dir.resolve("c"), "--noise-draws", "3")), "draws need noisy input");
    }

    @Test
    void aDeviceWithoutAGpuIsAnInputErrorNamingTheWayOut() {
        CliRun gpu = CliRun.of(args(dir.resolve("gpu"), "--device", "cuda"));
        assertEquals(2, gpu.code(), gpu.err());
        assertTrue(gpu.message().contains("--device") && gpu.message().contains("-Pgpu"), gpu.err());
        CliRun typo = CliRun.of(args(dir.resolve("typo"), "--device", "gpu0"));
        assertEquals(2, typo.code(), typo.err());
        assertTrue(typo.message().contains("--device") && typo.message().contains("cuda:N"), typo.err());
        assertEquals(0, Main.run(args(dir.resolve("cpu"), "--device", "cpu")));
        assertFalse(FeatureStore.open(dir.resolve("cpu")).settings().toString().contains("cuda"));
    }
}
