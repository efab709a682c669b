package org.diffrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.diffrep.data.DataSpec;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.ops.Threads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** sae train, encode and inspect on a real feature store (MNIST through a small seeded network). */
class SaeCommandTest {

    private static final String MNIST = "builtin:mnist";

    private static Path store(Path dir) {
        MlpDenoiser.Config c = new MlpDenoiser.Config(new long[]{1, 28, 28}, 2, 48, "silu", "sinusoidal", 16,
                org.diffrep.model.Parametrisation.EDM);
        try (PointerScope scope = new PointerScope()) {
            NetworkDenoiser m = ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(c)), 1234);
            ExtractConfig cfg = ExtractConfig.builder().data(MNIST).out(dir).layers(List.of("enc.0"))
                    .sigmas(0.1f, 1.0f).limit(300).batch(64).shardSize(128).seed(7).build();
            new Extractor(cfg).log(null).run(m, "mlp-seed-1234", DataSpec.open(MNIST));
        }
        return dir;
    }

    private static String[] run(String... args) {
        CliRun r = CliRun.of(args);
        return new String[]{Integer.toString(r.code()), r.out(), r.err()};
    }

    @Test
    void trainEncodeInspectAndInputErrors(@TempDir Path tmp) throws Exception {
        Path features = store(tmp.resolve("store"));
        Path sae = tmp.resolve("sae.safetensors");
        String[] r = run("--threads", "1", "sae", "train", "--features", features.toString(), "--layer", "enc.0",
                "--sigma", "1.0", "--latents", "64", "--k", "8", "--steps", "60", "--batch", "64", "--warmup", "10",
                "--out", sae.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        assertTrue(Files.isRegularFile(sae) && Files.isRegularFile(tmp.resolve("sae.safetensors.metrics.json")));
        JsonNode metrics = new ObjectMapper().readTree(tmp.resolve("sae.safetensors.metrics.json").toFile());
        assertTrue(metrics.path("test").path("fvu").asDouble() < 1.0, metrics.toString());
        assertEquals(8.0, metrics.path("train").path("l0").asDouble(), 1e-9, "ReLU codes of real features: 8 active");

        Path codes = tmp.resolve("codes");
        r = run("--threads", "1", "sae", "encode", "--sae", sae.toString(), "--features", features.toString(),
                "--out", codes.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        FeatureStore src = FeatureStore.open(features), enc = FeatureStore.open(codes);
        assertEquals(src.count(), enc.count());
        assertArrayEquals(src.labels(), enc.labels());
        assertArrayEquals(src.trainMask(), enc.trainMask());
        assertEquals(List.of("enc.0"), enc.layers());
        float[][] dense = enc.features("enc.0", 0);
        long[][] idx = enc.topkIndices("enc.0", 0);
        float[][] val = enc.topkValues("enc.0", 0);
        assertEquals(64, dense[0].length);
        for (int i = 0; i < dense.length; i++) {
            int nonzero = 0;
            for (float v : dense[i]) {
                nonzero += v != 0 ? 1 : 0;
            }
            assertTrue(nonzero <= 8);
            for (int q = 0; q < 8; q++) {
                assertEquals(val[i][q], dense[i][(int) idx[i][q]], 0f);
            }
        }

        Path page = tmp.resolve("inspect");
        r = run("--threads", "1", "sae", "inspect", "--sae", sae.toString(), "--features", features.toString(),
                "--data", MNIST, "--latents", "5", "--top", "9", "--out", page.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        String html = Files.readString(page.resolve("index.html"));
        assertEquals(5, html.split("<div class=\"card\">").length - 1, html);
        JsonNode latents = new ObjectMapper().readTree(page.resolve("latents.json").toFile());
        assertEquals(5, latents.size());
        for (JsonNode l : latents) {
            assertEquals(9, l.path("top").size());
            assertTrue(Files.size(page.resolve(l.path("montage").asText())) > 100);
        }

        r = run("sae", "train", "--features", features.toString(), "--layer", "mid", "--sigma", "1.0",
                "--out", tmp.resolve("x.safetensors").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--layer mid") && r[2].contains("enc.0"), r[2]);
        r = run("sae", "train", "--features", features.toString(), "--layer", "enc.0", "--sigma", "0.5",
                "--out", tmp.resolve("x.safetensors").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--sigma 0.5") && r[2].contains("[0.1, 1.0]"), r[2]);
        r = run("sae", "encode", "--sae", tmp.resolve("missing.safetensors").toString(), "--features",
                features.toString(), "--out", tmp.resolve("c2").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("missing.safetensors"), r[2]);
        Threads.set(0);
    }
}
