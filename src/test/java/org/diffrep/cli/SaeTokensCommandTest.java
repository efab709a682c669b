package org.diffrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.data.DataSpec;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.Pooling;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.UNet;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import org.diffrep.sae.TopKSae;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token SAEs through the command line: a k sweep on a --pool none store, streaming from a model, encode, inspect. */
class SaeTokensCommandTest {

    private static final String MNIST = "builtin:mnist";

    private static String[] run(String... args) {
        CliRun r = CliRun.of(args);
        return new String[]{Integer.toString(r.code()), r.out(), r.err()};
    }

    @Test
    void sweepEncodeInspectStreamAndInputErrors(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("unet.safetensors");
        Path store = tmp.resolve("store");
        Path pooled = tmp.resolve("pooled");
        try (PointerScope scope = new PointerScope()) {
            NetworkDenoiser m = ModelFiles.build(new UNet.Config(new long[]{1, 28, 28}, new int[]{8, 16}, 1, new int[0],
                    NoiseEmbedding.SINUSOIDAL, Parametrisation.EDM), 5);
            ModelFiles.save(m, model, Map.of());
            for (Object[] o : new Object[][]{{store, Pooling.NONE}, {pooled, Pooling.MEAN}}) {
                ExtractConfig cfg = ExtractConfig.builder().data(MNIST).out((Path) o[0]).layers(List.of("mid"))
                        .sigmas(1.0f).pool((Pooling) o[1]).limit(120).batch(32).seed(0).build();
                new Extractor(cfg).log(null).run(m, "unet-seed-5", DataSpec.open(MNIST));
            }
        }
        Path sae = tmp.resolve("sae.safetensors");
        String[] r = run("--threads", "1", "sae", "train", "--features", store.toString(), "--layer", "mid", "--sigma",
                "1.0", "--tokens", "--latents", "64", "--k", "4,8", "--steps", "40", "--batch", "128", "--warmup", "5",
                "--out", sae.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        assertTrue(r[1].contains("PCA-k") && r[1].contains("k_aux 8"), r[1]);
        long trainImages = 0;
        for (boolean t : FeatureStore.open(store).trainMask()) {
            trainImages += t ? 1 : 0;
        }
        JsonNode sweep = new ObjectMapper().readTree(tmp.resolve("sae.sweep.json").toFile());
        assertEquals(2, sweep.path("runs").size());
        for (JsonNode run : sweep.path("runs")) {
            int k = run.path("k").asInt();
            Path file = tmp.resolve("sae.k" + k + ".safetensors");
            assertTrue(Files.isRegularFile(file) && Files.isRegularFile(tmp.resolve("sae.k" + k + ".safetensors.metrics.json")));
            assertEquals(k, run.path("test").path("l0").asDouble(), 1e-9, "ReLU codes: k active per token");
            assertEquals(trainImages * 196, run.path("train_rows").asLong(), "train images x 14 x 14 tokens");
            assertTrue(run.path("pca").path("test_fvu").asDouble() > 0, run.toString());
            assertTrue(run.path("dead_in_training_window").isNumber() && run.path("test").path("never_active").isNumber());
            assertEquals(8, run.path("config").path("kAux").asInt(), "k_aux defaults to D/2 = 16/2");
        }
        Map<String, String> meta = TopKSae.load(tmp.resolve("sae.k8.safetensors")).metadata();
        assertEquals("true", meta.get("tokens"));
        assertEquals("[16, 14, 14]", meta.get("map_shape"));

        // pooled codes: max and mean over each image's positions, a store probe reads
        Path codes = tmp.resolve("codes");
        r = run("--threads", "1", "sae", "encode", "--sae", tmp.resolve("sae.k8.safetensors").toString(), "--features",
                store.toString(), "--out", codes.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        FeatureStore enc = FeatureStore.open(codes), src = FeatureStore.open(store);
        assertEquals(List.of("mid.max", "mid.mean"), enc.layers());
        assertEquals(src.count(), enc.count());
        float[][] max = enc.features("mid.max", 0), mean = enc.features("mid.mean", 0);
        try (PointerScope scope = new PointerScope()) {
            TopKSae s = TopKSae.load(tmp.resolve("sae.k8.safetensors")).sae();
            float[][] maps = src.features("mid", 0);
            for (int image : new int[]{0, 77}) {
                Tensor tok = Tensors.fromFloats(maps[image], 16, 196).t().contiguous();
                Tensor dense = s.encode(tok).dense().detach();
                float[] mx = Tensors.toFloats(dense.amax(new long[]{0}, false));
                float[] mn = Tensors.toFloats(dense.mean(new long[]{0}, false, null));
                for (int j = 0; j < 64; j++) {
                    assertEquals(mx[j], max[image][j], 1e-5f);
                    assertEquals(mn[j], mean[image][j], 1e-5f);
                }
            }
        }
        r = run("--threads", "1", "probe", "--features", codes.toString(), "--layer", "mid.max", "--out",
                tmp.resolve("probe").toString());
        assertEquals("0", r[0], r[1] + r[2]);

        // inspection: heat-map montages of the top images, the maps in latents.json
        Path page = tmp.resolve("inspect");
        r = run("--threads", "1", "sae", "inspect", "--sae", tmp.resolve("sae.k8.safetensors").toString(), "--features",
                store.toString(), "--data", MNIST, "--latents", "4", "--top", "6", "--order", "purity", "--out",
                page.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        String html = Files.readString(page.resolve("index.html"));
        assertEquals(4, html.split("<div class=\"card\">").length - 1, html);
        assertTrue(html.contains("heat map"), html);
        JsonNode latents = new ObjectMapper().readTree(page.resolve("latents.json").toFile());
        for (JsonNode l : latents) {
            assertEquals(6, l.path("top").size());
            JsonNode first = l.path("top").get(0);
            assertEquals(196, first.path("map").size());
            double mapMax = 0;
            for (JsonNode v : first.path("map")) {
                mapMax = Math.max(mapMax, v.asDouble());
            }
            assertEquals(first.path("activation").asDouble(), mapMax, 1e-6, "an image's activation is its map's maximum");
            assertTrue(Files.size(page.resolve(l.path("montage").asText())) > 100);
        }

        // streamed from the model: no store; encode takes the model and data from the SAE file
        Path streamed = tmp.resolve("streamed.safetensors");
        r = run("--threads", "1", "sae", "train", "--model", model.toString(), "--data", MNIST, "--limit", "120",
                "--layer", "mid", "--sigma", "1.0", "--tokens", "--latents", "64", "--k", "8", "--steps", "30",
                "--batch", "128", "--warmup", "5", "--buffer-images", "32", "--image-batch", "16", "--out",
                streamed.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        JsonNode sm = new ObjectMapper().readTree(tmp.resolve("streamed.safetensors.metrics.json").toFile());
        assertEquals(trainImages * 196, sm.path("train_rows").asLong(), "the split extraction uses");
        r = run("--threads", "1", "sae", "encode", "--sae", streamed.toString(), "--out", tmp.resolve("scodes").toString());
        assertEquals("0", r[0], r[1] + r[2]);
        FeatureStore sc = FeatureStore.open(tmp.resolve("scodes"));
        assertEquals(120, sc.count());
        boolean[] a = sc.trainMask(), b = src.trainMask();
        for (int i = 0; i < a.length; i++) {
            assertEquals(b[i], a[i], "the model's split is the store's");
        }

        // input errors: exit 2, one message naming what to change
        r = run("sae", "train", "--features", pooled.toString(), "--layer", "mid", "--sigma", "1.0", "--tokens",
                "--out", tmp.resolve("x.safetensors").toString());
        assertEquals("2", r[0], r[1] + r[2]);
        assertTrue(r[2].contains("--pool none") && r[2].contains("--tokens"), r[2]);
        r = run("sae", "train", "--model", model.toString(), "--data", MNIST, "--layer", "mid", "--sigma", "1.0",
                "--out", tmp.resolve("x.safetensors").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--tokens"), r[2]);
        r = run("sae", "train", "--features", store.toString(), "--model", model.toString(), "--layer", "mid",
                "--out", tmp.resolve("x.safetensors").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("not both"), r[2]);
        r = run("sae", "train", "--features", store.toString(), "--layer", "mid", "--sigma", "1.0", "--tokens",
                "--k", "4,4", "--out", tmp.resolve("x.safetensors").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--k"), r[2]);
        r = run("sae", "train", "--model", model.toString(), "--data", MNIST, "--layer", "nope", "--sigma", "1.0",
                "--tokens", "--out", tmp.resolve("x.safetensors").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--layer nope") || r[2].contains("nope"), r[2]);
        r = run("sae", "inspect", "--sae", tmp.resolve("sae.k8.safetensors").toString(), "--features", store.toString(),
                "--data", MNIST, "--order", "bogus", "--out", tmp.resolve("i2").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--order"), r[2]);
        Threads.set(0);
    }
}
