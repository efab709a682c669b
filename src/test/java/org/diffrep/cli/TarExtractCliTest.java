package org.diffrep.cli;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.data.TarShardFiles;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.StoreLayout;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real digits through {@code data pack} into tar shards and back through {@code extract}: the same images, labels and
 * feature bytes as the built-in source, whatever the number of decode threads; a shard broken after indexing stops
 * the extraction with exit 2, naming shard and member, and leaves no complete store.
 */
class TarExtractCliTest {

    static final int N = 300;

    @TempDir
    static Path dir;
    static Path modelFile;
    static Path shards;

    @BeforeAll
    static void packAndSaveModel() throws Exception {
        MlpDenoiser.Config c = new MlpDenoiser.Config(new long[]{1, 28, 28}, 2, 32, "silu", "sinusoidal", 16,
                Parametrisation.EDM);
        NetworkDenoiser m = ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(c)), 5);
        modelFile = dir.resolve("mlp.safetensors");
        ModelFiles.save(m, modelFile, Map.of("purpose", "TarExtractCliTest"));
        shards = dir.resolve("shards");
        CliRun pack = CliRun.of("data", "pack", "builtin:mnist", "--limit", Integer.toString(N), "--shard-size", "128",
                "--out", shards.toString());
        assertEquals(0, pack.code(), pack.err());
        assertTrue(pack.out().contains(N + " samples in 3 shards"), pack.out());
    }

    private static CliRun extract(String data, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("--threads", "2", "extract", "--model", modelFile.toString(),
                "--data", data, "--layers", "enc.1", "--sigmas", "0.1,1", "--limit", Integer.toString(N),
                "--batch", "32", "--shard-size", "100", "--out", out.toString()));
        a.addAll(List.of(extra));
        return CliRun.of(a.toArray(String[]::new));
    }

    @Test
    void packedShardsGiveTheSourcesPixelsAndLabels() {
        Dataset src = DataSpec.open("builtin:mnist");
        Dataset tar = DataSpec.open("tar:" + shards + ",channels=1,size=28");
        assertEquals(N, tar.size());
        long[] idx = new long[N];
        for (int i = 0; i < N; i++) {
            idx[i] = i;
        }
        try (PointerScope scope = new PointerScope()) {
            assertArrayEquals(Tensors.toFloats(src.batch(idx).images()), Tensors.toFloats(tar.batch(idx).images()));
            assertArrayEquals(Tensors.toLongs(src.batch(idx).labels()), Tensors.toLongs(tar.batch(idx).labels()));
        }
        assertEquals(List.of("shard-000000.tar", "shard-000001.tar", "shard-000002.tar"), names(shards));
    }

    @Test
    void packRefusesAFullDirectoryAndFloatData() {
        CliRun again = CliRun.of("data", "pack", "builtin:mnist", "--limit", "10", "--out", shards.toString());
        assertEquals(2, again.code());
        assertTrue(again.message().contains("--out") && again.message().contains("not empty"), again.err());
        CliRun floats = CliRun.of("data", "pack", "molrg:n=50,d=5,K=3,samples=100", "--out", dir.resolve("f").toString());
        assertEquals(2, floats.code());
        assertTrue(floats.message().contains("channels") || floats.message().contains("8-bit"), floats.err());
        CliRun noSpec = CliRun.of("data");
        assertEquals(2, noSpec.code());
        assertTrue(noSpec.err().contains("--data"), noSpec.err());
    }

    @Test
    void featuresFromShardsEqualTheBuiltinsAtAnyDecodeThreads() throws IOException {
        Path ref = dir.resolve("ref");
        assertEquals(0, extract("builtin:mnist", ref).code());
        for (String threads : new String[]{"1", "3"}) {
            Path out = dir.resolve("tar-" + threads);
            CliRun r = extract("tar:" + shards + ",channels=1,size=28", out, "--decode-threads", threads);
            assertEquals(0, r.code(), r.err());
            for (int j = 0; j < 2; j++) {
                String f = StoreLayout.features("enc.1", j);
                assertArrayEquals(Files.readAllBytes(ref.resolve(f)), Files.readAllBytes(out.resolve(f)), f);
            }
            assertArrayEquals(Files.readAllBytes(ref.resolve(StoreLayout.LABELS)), Files.readAllBytes(out.resolve(StoreLayout.LABELS)));
        }
    }

    @Test
    void aMemberBrokenAfterIndexingStopsTheRunNamingShardAndMember() throws IOException {
        // header intact (indexing passes), pixel data cut: decoding fails in a worker, mid-run
        TarShardFiles.Digits d = TarShardFiles.digits(260);
        Path broken = dir.resolve("broken");
        for (int s = 0; s < 2; s++) {
            Map<String, byte[]> m = new LinkedHashMap<>();
            for (int i = s * 130; i < (s + 1) * 130; i++) {
                byte[] png = TarShardFiles.png(d.pixels()[i]);
                if (i == 200) {
                    png = java.util.Arrays.copyOf(png, 60);
                }
                m.put(String.format("%05d.png", i), png);
                m.put(String.format("%05d.cls", i), TarShardFiles.text(Integer.toString(d.labels()[i])));
            }
            TarShardFiles.tar(broken.resolve("b-" + s + ".tar"), m);
        }
        Path out = dir.resolve("broken-store");
        CliRun r = extract("tar:" + broken + ",channels=1,size=28", out, "--decode-threads", "2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.message().contains("b-1.tar") && r.message().contains("00200.png"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertTrue(Files.readString(out.resolve(StoreLayout.MANIFEST)).contains("\"complete\":false")
                || Files.readString(out.resolve(StoreLayout.MANIFEST)).contains("\"complete\" : false"), "nothing marked complete");
        assertThrows(RuntimeException.class, () -> FeatureStore.open(out));
    }

    private static List<String> names(Path d) {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
