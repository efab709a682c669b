package org.diffrep.extract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Npy;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Store files mapped in several chunks of whole rows (files over 2 GiB) read exactly as one chunk: the chunk size
 * is forced down to a few rows on a small real store (builtin:mnist, noisy input, mean+max, top-k).
 */
class ChunkedStoreTest {

    @TempDir
    static Path tmp;
    static Path store;
    static final List<String> LAYERS = List.of("enc.0", "enc.1");

    @BeforeAll
    static void setUp() {
        org.diffrep.ops.Threads.set(2);
        store = tmp.resolve("store");
        ExtractFixture.run(ExtractFixture.config(store).layers(LAYERS).input(InputMode.NOISY)
                .pool(Pooling.MEAN_MAX).topk(4).limit(50).build(), ExtractFixture.mlp());
    }

    /** Chunks of 7 feature rows of enc.0 (other files: as many of their rows as fit in those bytes), or 1 row. */
    static long[] chunkSizes(FeatureStore one) {
        return new long[]{7 * one.rowLength("enc.0") * 4, 1};
    }

    @Test
    void everyReaderGivesTheSameResultsInTinyChunks() {
        FeatureStore one = FeatureStore.open(store);
        assertEquals(1, one.map(StoreLayout.features("enc.0", 0)).chunkCount());
        for (long chunk : chunkSizes(one)) {
            FeatureStore many = FeatureStore.open(store, chunk);
            Npy.Mapped m = many.map(StoreLayout.features("enc.0", 0));
            assertEquals(chunk == 1 ? 50 : 8, m.chunkCount(), "50 rows in chunks of " + m.rowsPerChunk());
            assertArrayEquals(one.labels(), many.labels());
            assertArrayEquals(one.trainMask(), many.trainMask());
            for (String layer : LAYERS) {
                for (int j = 0; j < one.sigmas().length; j++) {
                    assertArrayEquals(one.features(layer, j), many.features(layer, j));
                    assertArrayEquals(one.featuresMax(layer, j), many.featuresMax(layer, j));
                    assertArrayEquals(one.topkIndices(layer, j), many.topkIndices(layer, j));
                    assertArrayEquals(one.topkValues(layer, j), many.topkValues(layer, j));
                    try (PointerScope scope = new PointerScope()) {
                        Tensor a = one.featuresTensor(layer, j), b = many.featuresTensor(layer, j);
                        assertArrayEquals(Tensors.shape(a), Tensors.shape(b));
                        assertArrayEquals(Tensors.toFloats(a), Tensors.toFloats(b));
                        for (long[] r : new long[][]{{0, 50}, {3, 4}, {5, 9}, {14, 7}, {49, 1}, {20, 0}}) {
                            Tensor ra = one.featuresTensor(layer, j, r[0], r[1]);
                            Tensor rb = many.featuresTensor(layer, j, r[0], r[1]);
                            assertArrayEquals(Tensors.toFloats(a.narrow(0, r[0], r[1])), Tensors.toFloats(rb));
                            assertArrayEquals(Tensors.toFloats(ra), Tensors.toFloats(rb));
                        }
                    }
                }
            }
            assertThrows(InvalidInputException.class, () -> many.featuresTensor("enc.0", 0, 45, 6));
        }
    }

    @Test
    void aRangeInsideOneChunkIsAViewOverTheMapping() {
        FeatureStore many = FeatureStore.open(store, chunkSizes(FeatureStore.open(store))[0]);
        Npy.Mapped m = many.map(StoreLayout.features("enc.0", 1));
        try (PointerScope scope = new PointerScope()) {
            Tensor t = many.featuresTensor("enc.0", 1, 8, 5); // rows 8..12 lie in chunk 1 (rows 7..13)
            assertTrue(MappingPins.isPinned(t.data_ptr().address()));
            assertEquals(m.chunk(1).getFloat((int) m.rowBytes()), t.select(0, 0).select(0, 0).item_float());
        }
    }

    @Test
    void nanAndBadChannelIndicesAreFoundInALaterChunkNamingTheRow(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("copy");
        copyTree(store, copy);
        FeatureStore one = FeatureStore.open(copy);
        long c = one.rowLength("enc.1");
        poke(copy.resolve(StoreLayout.features("enc.1", 2)), (33 * c + 2) * 4, Float.NaN);
        long k = 4;
        Path idx = copy.resolve(StoreLayout.topkIndices("enc.0", 1));
        long header = Npy.readStrictHeader(idx).dataOffset();
        try (FileChannel ch = FileChannel.open(idx, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 9999), header + (41 * k + 1) * 8);
        }
        for (long chunk : new long[]{Npy.CHUNK_BYTES, 7 * c * 4, 1}) {
            FeatureStore s = FeatureStore.open(copy, chunk);
            InvalidInputException nan = assertThrows(InvalidInputException.class, () -> s.features("enc.1", 2));
            assertTrue(nan.getMessage().contains("row 33, column 2 is NaN"), nan.getMessage());
            InvalidInputException bad = assertThrows(InvalidInputException.class, () -> s.topkIndices("enc.0", 1));
            assertTrue(bad.getMessage().contains("row 41, column 1: channel index is 9999"), bad.getMessage());
        }
    }

    private static void poke(Path file, long dataByte, float v) throws Exception {
        long header = Npy.readStrictHeader(file).dataOffset();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, v), header + dataByte);
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var w = Files.walk(from)) {
            for (Path p : w.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }
}
