package org.diffrep.extract;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FeatureStore#open} checks a store before anything reads it (issue 13): row counts of every array against
 * the manifest's count, dtypes, label range, split values, dataset indices, the manifest's own fields; and NaN or
 * Inf when a feature file is first read. Every error is an {@link InvalidInputException} naming the file.
 */
public class StoreConsistencyTest {

    public static final int N = 12;
    public static final int C = 4;

    @TempDir
    Path tmp;

    /** A small valid store: one layer "mid" (C channels), two sigmas, top-k 2, labels i % 3. */
    public static Path store(Path dir, Consumer<Parts> edit) throws IOException {
        Parts p = new Parts();
        for (int i = 0; i < N; i++) {
            p.labels[i] = i % 3;
            p.split[i] = (byte) (i % 4 == 0 ? 0 : 1);
            p.indices[i] = i;
            for (int c = 0; c < C; c++) {
                p.features[i * C + c] = i % 3 + 0.1f * c;
            }
            p.topk[i * 2] = 3;
            p.topk[i * 2 + 1] = 2;
        }
        edit.accept(p);
        Files.createDirectories(dir.resolve("features/mid"));
        Files.createDirectories(dir.resolve("topk/mid"));
        List<String> files = new ArrayList<>(List.of("indices.npy", "labels.npy", "split.npy"));
        Npy.write(dir.resolve("labels.npy"), p.labels);
        Npy.write(dir.resolve("split.npy"), p.split);
        Npy.write(dir.resolve("indices.npy"), p.indices);
        for (int s = 0; s < 2; s++) {
            Npy.write(dir.resolve(StoreLayout.features("mid", s)), p.features, p.featureRows, C);
            Npy.write(dir.resolve(StoreLayout.topkIndices("mid", s)), p.topk, N, 2);
            float[] values = new float[N * 2];
            Npy.write(dir.resolve(StoreLayout.topkValues("mid", s)), values, N, 2);
            files.add(StoreLayout.features("mid", s));
            files.add(StoreLayout.topkIndices("mid", s));
            files.add(StoreLayout.topkValues("mid", s));
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("model", "m.safetensors");
        settings.put("model_id", "sha256:0");
        settings.put("data", "molrg:samples=12");
        settings.put("count", N);
        settings.put("layers", List.of("mid"));
        settings.put("sigmas", List.of(0.1, 0.5));
        settings.put("input", "clean");
        settings.put("noise_draws", 1);
        settings.put("pool", "mean");
        settings.put("topk", 2);
        settings.put("batch", 4);
        settings.put("shard_size", 1024);
        settings.put("forward_rows", 128);
        settings.put("seed", 0);
        settings.put("split", "all");
        settings.put("train_frac", null);
        settings.put("limit", 0);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", StoreManifest.FORMAT);
        m.put("settings", settings);
        m.put("layers", Map.of("mid", Map.of("map_shape", List.of(C, 1, 1), "row_length", C)));
        m.put("files", files);
        m.put("versions", Map.of());
        m.put("complete", true);
        ObjectMapper json = new ObjectMapper();
        ObjectNode tree = json.valueToTree(m);
        p.manifest.accept(tree);
        json.writeValue(dir.resolve("manifest.json").toFile(), tree);
        return dir;
    }

    /** What a test may spoil before the store is written. */
    public static final class Parts {
        public long[] labels = new long[N];
        byte[] split = new byte[N];
        long[] indices = new long[N];
        public float[] features = new float[N * C];
        public int featureRows = N;
        long[] topk = new long[N * 2];
        Consumer<ObjectNode> manifest = m -> { };
    }

    private InvalidInputException refused(Consumer<Parts> edit) throws IOException {
        Path dir = store(tmp.resolve("s" + System.nanoTime()), edit);
        return assertThrows(InvalidInputException.class, () -> {
            FeatureStore s = FeatureStore.open(dir);
            s.features("mid", 0);
            s.features("mid", 1);
            s.topkIndices("mid", 0);
        });
    }

    private static void assertMentions(InvalidInputException e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void aValidStoreOpensAndReads() throws IOException {
        FeatureStore s = FeatureStore.open(store(tmp.resolve("ok"), p -> { }));
        assertEquals(N, s.count());
        assertEquals(N, s.features("mid", 1).length);
        assertEquals(3, s.topkIndices("mid", 0)[5][0]);
    }

    @Test
    void labelsOutsideTheClassRangeAreRefusedNotTurnedIntoClasses() throws IOException {
        assertMentions(refused(p -> p.labels[5] = -1), "labels.npy", "row 5", "label = -1", "0..65535");
        // 2^32 + 5 once wrapped to class 5; 70000 once became 69,998 empty extra classes.
        assertMentions(refused(p -> p.labels[7] = (1L << 32) + 5), "labels.npy", "row 7", "label = 4294967301");
        assertMentions(refused(p -> p.labels[0] = 70_000), "labels.npy", "row 0", "70000");
    }

    @Test
    void rowCountsOfEveryArrayMustMatchTheManifest() throws IOException {
        assertMentions(refused(p -> {
            p.featureRows = N - 2;
            p.features = new float[(N - 2) * C];
        }), "features/mid/sigma_0.npy", "field shape is [10, 4]", "expected 12 rows", "settings.count");
        assertMentions(refused(p -> p.split = new byte[N + 1]), "split.npy", "[13]", "expected 12 rows");
        assertMentions(refused(p -> p.labels = new long[N - 1]), "labels.npy", "[11]", "expected 12 rows");
        assertMentions(refused(p -> p.manifest = m -> ((ObjectNode) m.get("settings")).put("count", 1L << 40)),
                "manifest.json", "settings.count is 1099511627776");
    }

    @Test
    void dtypesSplitValuesAndIndicesAreChecked() throws IOException {
        Path dir = store(tmp.resolve("fl"), p -> { });
        Npy.write(dir.resolve("labels.npy"), new float[N]);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> FeatureStore.open(dir));
        assertMentions(e, "labels.npy", "descr is '<f4'", "expected '<i8'");
        assertMentions(refused(p -> p.split[3] = 2), "split.npy", "row 3", "split = 2");
        assertMentions(refused(p -> p.indices[4] = -7), "indices.npy", "row 4", "dataset index = -7");
        assertMentions(refused(p -> p.topk[2 * 6 + 1] = C), "topk/mid/sigma_0.indices.npy", "row 6, column 1",
                "channel index is 4", "0..3");
    }

    @Test
    void nonFiniteFeaturesAreRefusedNamingFileRowAndColumn() throws IOException {
        assertMentions(refused(p -> p.features[7 * C + 2] = Float.NaN), "features/mid/sigma_0.npy", "row 7, column 2",
                "is NaN", "expected finite features");
        assertMentions(refused(p -> p.features[C + 3] = Float.NEGATIVE_INFINITY), "row 1, column 3", "-Infinity");
    }

    @Test
    void manifestFieldsAndFileListAreChecked() throws IOException {
        assertMentions(refused(p -> p.manifest = m -> ((com.fasterxml.jackson.databind.node.ArrayNode) m.get("files"))
                .add("../../etc/passwd")), "manifest.json", "'../../etc/passwd'", "inside the store");
        assertMentions(refused(p -> p.manifest = m -> ((com.fasterxml.jackson.databind.node.ArrayNode) m.get("files"))
                .add("features/mid/sigma_9.npy")), "features/mid/sigma_9.npy", "missing from the feature store");
        assertMentions(refused(p -> p.manifest = m -> ((com.fasterxml.jackson.databind.node.ArrayNode) m.get("files"))
                .remove(3)), "manifest.json", "field files lacks features/mid/sigma_0.npy");
        assertMentions(refused(p -> p.manifest = m -> m.remove("layers")), "manifest.json", "layers");
        assertMentions(refused(p -> p.manifest = m -> ((ObjectNode) m.get("layers").get("mid")).put("row_length", 0)),
                "manifest.json", "layers.mid");
    }

    @Test
    void npyHeaderWhoseShapeOverflowsIsRefused() throws IOException {
        Path dir = store(tmp.resolve("ov"), p -> { });
        Path f = dir.resolve(StoreLayout.features("mid", 1));
        byte[] header = Npy.header(Npy.DType.FLOAT32, 4611686018427387904L, 4);
        Files.write(f, header);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> FeatureStore.open(dir));
        assertMentions(e, f.toString(), "field shape", "overflow");
    }
}
