package org.diffrep.data;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxReaderTest {

    /** The built-in MNIST files copied to disk: this class tests the idx: reader on real files. */
    @TempDir
    static Path mnistDir;
    static Dataset mnist;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        mnist = DataSpec.open("idx:" + BuiltinFiles.copyMnist(mnistDir));
    }

    @Test
    void realMnistCountsAndClasses() {
        assertEquals(10000, mnist.size());
        assertArrayEquals(new int[]{1, 28, 28}, mnist.imageShape());
        assertEquals(10, mnist.numClasses());
        assertEquals("7", mnist.classNames().get(7));
        assertArrayEquals(new int[]{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, mnist.classCounts());
        assertTrue(mnist.archiveSplit().isEmpty());
    }

    @Test
    void batchesInAnyOrderMatchTheFile() throws IOException {
        byte[] raw = IdxReader.readMaybeGzip(mnistDir.resolve("mnist10k-images-idx3-ubyte.gz"));
        byte[] rawLabels = IdxReader.readMaybeGzip(mnistDir.resolve("mnist10k-labels-idx1-ubyte.gz"));
        long[] idx = {9999, 0, 4242, 0, 17};
        try (PointerScope scope = new PointerScope()) {
            Batch b = mnist.batch(idx);
            assertArrayEquals(new long[]{5, 1, 28, 28}, Tensors.shape(b.images()));
            assertArrayEquals(new long[]{5}, Tensors.shape(b.labels()));
            assertArrayEquals(idx, b.indices());
            float[] x = Tensors.toFloats(b.images());
            long[] y = Tensors.toLongs(b.labels());
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < idx.length; j++) {
                assertEquals(rawLabels[8 + (int) idx[j]], y[j]);
                assertEquals(mnist.label((int) idx[j]), y[j]);
                for (int p = 0; p < 784; p++) {
                    float v = x[j * 784 + p];
                    assertEquals((raw[16 + (int) idx[j] * 784 + p] & 0xFF) / 127.5f - 1f, v, 1e-6f);
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
            assertEquals(-1f, min);
            assertEquals(1f, max);
            // A repeated index gives the same sample; int and long indices agree.
            assertArrayEquals(Arrays.copyOfRange(x, 784, 2 * 784), Arrays.copyOfRange(x, 3 * 784, 4 * 784));
            assertArrayEquals(x, Tensors.toFloats(mnist.batch(new int[]{9999, 0, 4242, 0, 17}).images()));
        }
        try (PointerScope scope = new PointerScope()) {
            assertThrows(IndexOutOfBoundsException.class, () -> mnist.batch(new long[]{10000}));
        }
    }

    @Test
    void concurrentBatchesAgree() throws Exception {
        long[] idx = new long[512];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = (i * 7919L) % 10000;
        }
        float[] expected;
        try (PointerScope scope = new PointerScope()) {
            expected = Tensors.toFloats(mnist.batch(idx).images());
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<float[]>> results = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    try (PointerScope scope = new PointerScope()) {
                        return Tensors.toFloats(mnist.batch(idx).images());
                    }
                }));
            }
            for (java.util.concurrent.Future<float[]> f : results) {
                assertArrayEquals(expected, f.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void rawAndGzipAreToldApartByMagicAndExplicitFormWorks() throws IOException {
        byte[] images = idxImages(3, 2, 2);
        byte[] labels = idxLabels(0, 2, 1);
        // Raw data under a .gz name and gzip data under a plain name: the magic decides.
        Files.write(dir.resolve("a-images-idx3-ubyte.gz"), images);
        Files.write(dir.resolve("a-labels-idx1-ubyte"), gzip(labels));
        Dataset d = DataSpec.open("idx:" + dir.resolve("a-images-idx3-ubyte.gz") + "," + dir.resolve("a-labels-idx1-ubyte"));
        assertEquals(3, d.size());
        assertArrayEquals(new int[]{1, 2, 2}, d.imageShape());
        assertArrayEquals(new int[]{0, 2, 1}, d.labels());
        assertEquals(3, d.numClasses());
        assertEquals(3, DataSpec.open("idx:" + dir).size());
    }

    @Test
    void directoryWithTrainAndTestSetsPicksTrain() throws IOException {
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(idxImages(4, 2, 2)));
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(idxLabels(0, 1, 0, 1)));
        Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), gzip(idxImages(2, 2, 2)));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), gzip(idxLabels(1, 0)));
        assertEquals(4, DataSpec.open("idx:" + dir).size());
        assertEquals(2, DataSpec.open("idx:" + dir.resolve("t10k-images-idx3-ubyte.gz") + ","
                + dir.resolve("t10k-labels-idx1-ubyte.gz")).size());
        Files.write(dir.resolve("other-images-idx3-ubyte"), idxImages(1, 2, 2));
        Files.write(dir.resolve("more-train-images-idx3-ubyte"), idxImages(1, 2, 2));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataSpec.open("idx:" + dir));
        assertTrue(e.getMessage().contains("idx:IMAGES,LABELS"), e.getMessage());
    }

    @Test
    void badFilesGiveOneClearError() throws IOException {
        byte[] images = idxImages(3, 2, 2);
        Path labels = dir.resolve("l-labels-idx1-ubyte");
        Files.write(labels, idxLabels(0, 1, 2));

        Files.write(dir.resolve("trunc"), Arrays.copyOf(images, images.length - 1));
        assertError("trunc", labels, "truncated");
        byte[] gz = gzip(images);
        Files.write(dir.resolve("cut.gz"), Arrays.copyOf(gz, gz.length - 10));
        assertError("cut.gz", labels, "corrupt or truncated gzip");
        byte[] corrupt = gz.clone();
        for (int i = 12; i < corrupt.length - 8; i++) {
            corrupt[i] = (byte) 0xFF;
        }
        Files.write(dir.resolve("corrupt.gz"), corrupt);
        assertError("corrupt.gz", labels, "corrupt or truncated gzip");
        byte[] magic = images.clone();
        magic[2] = 0x0D;
        Files.write(dir.resolve("magic"), magic);
        assertError("magic", labels, "field magic is 0x00000d03; expected 0x00000803");
        Files.write(dir.resolve("labels-as-images"), idxLabels(0, 1, 2));
        assertError("labels-as-images", labels, "field magic");
        Files.write(dir.resolve("four"), idxImages(4, 2, 2));
        assertError("four", labels, "4 images but 3 labels");
        assertError("absent", labels, "no such file");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataSpec.open("idx:" + dir.resolve("nodir")));
        assertTrue(e.getMessage().contains("nodir") && e.getMessage().contains("no such directory"), e.getMessage());
    }

    private void assertError(String images, Path labels, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> DataSpec.open("idx:" + dir.resolve(images) + "," + labels));
        assertTrue(e.getMessage().contains(images) && e.getMessage().contains(fragment), e.getMessage());
    }

    static byte[] idxImages(int n, int h, int w) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeInt(out, 0x00000803);
        writeInt(out, n);
        writeInt(out, h);
        writeInt(out, w);
        for (int i = 0; i < n * h * w; i++) {
            out.write(i * 37);
        }
        return out.toByteArray();
    }

    static byte[] idxLabels(int... labels) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeInt(out, 0x00000801);
        writeInt(out, labels.length);
        for (int l : labels) {
            out.write(l);
        }
        return out.toByteArray();
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(b)) {
            g.write(data);
        }
        return b.toByteArray();
    }
}
