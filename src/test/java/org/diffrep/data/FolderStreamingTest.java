package org.diffrep.data;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** folder: decodes per batch; its batches equal the in-memory decode and, for PNG digits, the digits themselves. */
class FolderStreamingTest {

    @TempDir
    Path dir;

    private static float[] images(Dataset d, long... idx) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toFloats(d.batch(idx).images());
        }
    }

    private static long[] labels(Dataset d, long... idx) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toLongs(d.batch(idx).labels());
        }
    }

    /** Writes 40 digits as DIR/&lt;digit&gt;/NN.png; returns their indices in the folder's sorted order. */
    private long[] writeDigits() throws IOException {
        TarShardFiles.Digits d = TarShardFiles.digits(40);
        Integer[] order = new Integer[40];
        for (int i = 0; i < 40; i++) {
            order[i] = i;
            Path f = Files.createDirectories(dir.resolve(String.valueOf(d.labels()[i]))).resolve(String.format("%02d.png", i));
            Files.write(f, TarShardFiles.png(d.pixels()[i]));
        }
        Arrays.sort(order, (a, b) -> d.labels()[a] != d.labels()[b] ? Integer.compare(d.labels()[a], d.labels()[b])
                : Integer.compare(a, b));
        return Arrays.stream(order).mapToLong(Integer::longValue).toArray();
    }

    @Test
    void streamedBatchesEqualTheInMemoryDecodeAndTheDigits() throws IOException {
        long[] builtinOrder = writeDigits();
        Dataset streamed = DataSpec.open("folder:" + dir + ",channels=1,size=28");
        assertFalse(streamed instanceof InMemoryDataset);
        assertEquals(40, streamed.size());
        long[] all = new long[40];
        for (int i = 0; i < 40; i++) {
            all[i] = i;
        }
        assertArrayEquals(images(DataSpec.open("builtin:mnist"), builtinOrder), images(streamed, all));

        for (String opts : new String[]{",channels=1,size=28", ",channels=3,size=16", ",size=40"}) {
            Dataset s = DataSpec.open("folder:" + dir + opts);
            String[] parts = opts.split("[,=]");
            int channels = opts.contains("channels=1") ? 1 : 3;
            int size = Integer.parseInt(parts[parts.length - 1]);
            InMemoryDataset mem = FolderReader.readInMemory(dir, size, channels, "folder:" + dir + opts);
            assertArrayEquals(mem.labels(), s.labels());
            assertEquals(mem.classNames(), s.classNames());
            assertArrayEquals(mem.imageShape(), s.imageShape());
            long[] mixed = {39, 0, 7, 7, 22, 1};
            assertArrayEquals(images(mem, all), images(s, all), opts);
            assertArrayEquals(images(mem, mixed), images(s, mixed), opts);
            assertArrayEquals(labels(mem, mixed), labels(s, mixed), opts);
        }
    }

    @Test
    void anImageBrokenAfterItsHeaderFailsInTheBatchNamingTheFile() throws IOException {
        writeDigits();
        Path f = dir.resolve("7").toFile().listFiles()[0].toPath();
        byte[] png = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(png, 40)); // header intact, image data cut
        Dataset d = DataSpec.open("folder:" + dir + ",channels=1,size=28");
        long[] all = new long[d.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> images(d, all));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
