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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.diffrep.data.TarShardFiles.png;
import static org.diffrep.data.TarShardFiles.tar;
import static org.diffrep.data.TarShardFiles.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TarShardsTest {

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

    private static long[] range(int from, int to) {
        long[] r = new long[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    @Test
    void realDigitsComeBackExactlyInShardThenArchiveOrder() throws IOException {
        TarShardFiles.Digits digits = TarShardFiles.shards(dir);
        Dataset builtin = DataSpec.open("builtin:mnist");
        Dataset d = DataSpec.open("tar:" + dir + ",channels=1,size=28");
        assertEquals(50, d.size());
        assertArrayEquals(new int[]{1, 28, 28}, d.imageShape());
        assertArrayEquals(digits.labels(), d.labels());
        int k = Arrays.stream(digits.labels()).max().orElseThrow() + 1;
        assertEquals(k, d.numClasses());
        assertEquals("0", d.classNames().get(0));
        long[] all = range(0, 50);
        assertArrayEquals(images(builtin, all), images(d, all));
        assertArrayEquals(labels(builtin, all), labels(d, all));
        // Repeated and unsorted indices, across the .tar and .tar.gz shards.
        long[] mixed = {49, 3, 3, 20, 0, 34, 20, 35, 21};
        assertArrayEquals(images(builtin, mixed), images(d, mixed));
        assertArrayEquals(labels(builtin, mixed), labels(d, mixed));
        assertArrayEquals(images(builtin, 27), images(d, 27));
        assertThrows(IndexOutOfBoundsException.class, () -> d.batch(new long[]{50}));
    }

    @Test
    void globSelectsShardsAndOptionsResize() throws IOException {
        TarShardFiles.Digits digits = TarShardFiles.shards(dir);
        Dataset d = DataSpec.open("tar:" + dir.resolve("train-*.tar") + ",channels=1,size=28");
        assertEquals(35, d.size());
        int[] want = new int[35];
        System.arraycopy(digits.labels(), 0, want, 0, 20);
        System.arraycopy(digits.labels(), 35, want, 20, 15);
        assertArrayEquals(want, d.labels());
        Dataset builtin = DataSpec.open("builtin:mnist");
        assertArrayEquals(images(builtin, 36, 0), images(d, 21, 0));

        Dataset rgb = DataSpec.open("tar:" + dir + ",size=14");
        assertArrayEquals(new int[]{3, 14, 14}, rgb.imageShape());
        float[] x = images(rgb, 5);
        float[] grey = images(DataSpec.open("tar:" + dir + ",size=14,channels=1"), 5);
        for (int p = 0; p < 196; p++) {
            assertEquals(grey[p], x[p], 1e-6f);
            assertEquals(x[p], x[196 + p], 0f);
            assertEquals(x[p], x[392 + p], 0f);
        }
    }

    @Test
    void batchesFromSeveralThreadsAgree() throws Exception {
        TarShardFiles.shards(dir);
        Dataset d = DataSpec.open("tar:" + dir + ",channels=1,size=28");
        float[] want = images(d, range(0, 50));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> got = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                got.add(pool.submit(() -> images(d, range(0, 50))));
            }
            for (Future<float[]> f : got) {
                assertArrayEquals(want, f.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    private void assertError(String spec, String... fragments) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataSpec.open(spec));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), e.getMessage());
        }
    }

    @Test
    void badShardsNameTheShardAndMember() throws IOException {
        byte[] one = png(TarShardFiles.digits(1).pixels()[0]);
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("a.png", one);
        m.put("a.cls", text("1"));
        m.put("b.png", one);
        Path missing = tar(dir.resolve("missing/x.tar"), m);
        assertError("tar:" + missing.getParent(), missing.toString(), "b.png", "image without label", "b.cls");
        assertError("tar:" + tar(dir.resolve("missinggz/x.tar.gz"), m).getParent(), "x.tar.gz!b.png", "image without label");

        m.put("b.cls", text("x"));
        Path notNumber = tar(dir.resolve("x/y.tar"), m);
        assertError("tar:" + notNumber, notNumber + "!b.cls", "expected a class index", "'x'");

        m.put("b.cls", text("70000"));
        assertError("tar:" + tar(dir.resolve("big/y.tar"), m), "y.tar!b.cls", "70000", "0..65535");

        m.remove("b.cls");
        m.put("b.json", text("{\"name\": \"b\"}"));
        assertError("tar:" + tar(dir.resolve("json/y.tar"), m), "y.tar!b.json", "integer field \"label\"");

        m.put("b.json", text("{\"label\": 2}"));
        m.put("c.cls", text("2"));
        assertError("tar:" + tar(dir.resolve("orphan/y.tar"), m), "y.tar!c.cls", "label without image");

        m.remove("c.cls");
        m.put("c.png", text("not a png"));
        m.put("c.cls", text("2"));
        Dataset bad = DataSpec.open("tar:" + tar(dir.resolve("badimg/y.tar"), m));
        assertEquals(3, bad.size());
        images(bad, 0, 1);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> images(bad, 2));
        assertTrue(e.getMessage().contains("y.tar!c.png") && e.getMessage().contains("PNG or JPEG"), e.getMessage());

        assertError("tar:" + Files.createDirectories(dir.resolve("none")), "no shards");
        assertError("tar:" + dir.resolve("none/*.tar"), "no shards");
        assertError("tar:" + dir.resolve("absent/*.tar"), "no such directory");
    }

    @Test
    void truncatedArchivesNameTheShardAndMember() throws IOException {
        TarShardFiles.shards(dir);
        for (String name : List.of("train-000.tar", "train-001.tar.gz")) {
            Path whole = dir.resolve(name);
            byte[] bytes = Files.readAllBytes(whole);
            Path cut = Files.createDirectories(dir.resolve("cut-" + name)).resolve(name);
            Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> DataSpec.open("tar:" + cut.getParent()));
            assertTrue(e.getMessage().contains(cut + "!s9") && e.getMessage().contains("truncated"), e.getMessage());
        }
    }
}
