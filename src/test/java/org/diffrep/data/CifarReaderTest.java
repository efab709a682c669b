package org.diffrep.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CIFAR archives written by the test in the real binary layout: label byte(s) then 3072 pixel bytes (R, G, B planes). */
class CifarReaderTest {

    static final String[] CIFAR10_NAMES = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

    @TempDir
    Path dir;

    /** A record whose label bytes are given and whose pixel at plane c, position p is (seed + 7c + p) mod 256. */
    static byte[] record(int seed, int... labelBytes) {
        byte[] r = new byte[labelBytes.length + 3072];
        for (int i = 0; i < labelBytes.length; i++) {
            r[i] = (byte) labelBytes[i];
        }
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < 1024; p++) {
                r[labelBytes.length + c * 1024 + p] = (byte) (seed + 7 * c + p);
            }
        }
        return r;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    static void writeTarGz(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream f = Files.newOutputStream(file);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(f))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(e.getKey(), true);
                entry.setSize(e.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
    }

    private Path cifar10() throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        // Batch 2 comes first in the archive on purpose: the reader orders batches by number.
        e.put("cifar-10-batches-bin/data_batch_2.bin", concat(record(20, 3), record(21, 9)));
        e.put("cifar-10-batches-bin/batches.meta.txt", (String.join("\n", CIFAR10_NAMES) + "\n\n").getBytes(StandardCharsets.UTF_8));
        e.put("cifar-10-batches-bin/data_batch_1.bin", concat(record(10, 0), record(11, 1), record(12, 2)));
        e.put("cifar-10-batches-bin/test_batch.bin", concat(record(30, 5)));
        e.put("cifar-10-batches-bin/readme.html", "x".getBytes(StandardCharsets.UTF_8));
        Path file = dir.resolve("cifar-10-binary.tar.gz");
        writeTarGz(file, e);
        return file;
    }

    @Test
    void cifar10FromTheArchive() throws IOException {
        Dataset d = DataSpec.open("cifar10:" + cifar10());
        assertEquals(6, d.size());
        assertArrayEquals(new int[]{3, 32, 32}, d.imageShape());
        assertEquals(Arrays.asList(CIFAR10_NAMES), d.classNames());
        assertArrayEquals(new int[]{0, 1, 2, 3, 9, 5}, d.labels());
        assertArrayEquals(new byte[]{1, 1, 1, 1, 1, 0}, d.archiveSplit().orElseThrow().mask());
        assertEquals(d.archiveSplit().get(), Split.choose(d, null, 0));
        try (PointerScope scope = new PointerScope()) {
            Batch b = d.batch(new long[]{4, 0});
            assertArrayEquals(new long[]{2, 3, 32, 32}, Tensors.shape(b.images()));
            assertArrayEquals(new long[]{9, 0}, Tensors.toLongs(b.labels()));
            float[] x = Tensors.toFloats(b.images());
            // Sample 4 is record(21): green plane (c=1), pixel (row 2, col 5) = 21 + 7 + 69.
            assertEquals(((21 + 7 + 69) & 0xFF) / 127.5f - 1f, x[1024 + 2 * 32 + 5], 1e-6f);
            assertEquals((10 + 14 + 1000 & 0xFF) / 127.5f - 1f, x[3072 + 2 * 1024 + 1000], 1e-6f);
        }
    }

    @Test
    void cifar100FineAndCoarse() throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("cifar-100-binary/train.bin", concat(record(1, 4, 30), record(2, 19, 99), record(3, 0, 0)));
        e.put("cifar-100-binary/test.bin", concat(record(4, 7, 55)));
        StringBuilder fine = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            fine.append("fine").append(i).append('\n');
        }
        e.put("cifar-100-binary/fine_label_names.txt", fine.toString().getBytes(StandardCharsets.UTF_8));
        Path file = dir.resolve("cifar-100-binary.tar.gz");
        writeTarGz(file, e);

        Dataset f = DataSpec.open("cifar100:" + file);
        assertEquals(100, f.numClasses());
        assertArrayEquals(new int[]{30, 99, 0, 55}, f.labels());
        assertEquals("fine99", f.classNames().get(99));
        assertArrayEquals(new byte[]{1, 1, 1, 0}, f.archiveSplit().orElseThrow().mask());

        Dataset c = DataSpec.open("cifar100:" + file + ",labels=coarse");
        assertEquals(20, c.numClasses());
        assertArrayEquals(new int[]{4, 19, 0, 7}, c.labels());
        assertEquals("19", c.classNames().get(19), "no coarse_label_names.txt: generic names");
        try (PointerScope scope = new PointerScope()) {
            float[] x = Tensors.toFloats(c.batch(new long[]{1}).images());
            assertEquals((2 / 127.5f) - 1f, x[0], 1e-6f);
        }
        InvalidInputException bad = assertThrows(InvalidInputException.class, () -> DataSpec.open("cifar100:" + file + ",labels=mid"));
        assertTrue(bad.getMessage().contains("fine or coarse"), bad.getMessage());
    }

    @Test
    void escapingEntryNameIsRefused() throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("cifar-10-batches-bin/data_batch_1.bin", record(1, 0));
        e.put("cifar-10-batches-bin/../../x", new byte[]{1});
        Path file = dir.resolve("evil.tar.gz");
        writeTarGz(file, e);
        assertError("cifar10:" + file, "evil.tar.gz", "entry name 'cifar-10-batches-bin/../../x' escapes");
        e.remove("cifar-10-batches-bin/../../x");
        e.put("/etc/passwd", new byte[]{1});
        writeTarGz(file, e);
        assertError("cifar10:" + file, "evil.tar.gz", "escapes");
    }

    @Test
    void labelOutOfRangeTruncatedRecordsAndCorruptArchives() throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("cifar-10-batches-bin/data_batch_1.bin", concat(record(1, 3), record(2, 10)));
        Path label = dir.resolve("label.tar.gz");
        writeTarGz(label, e);
        assertError("cifar10:" + label, "data_batch_1.bin: record 1: field label is 10; expected 0..9", "label.tar.gz");

        e.put("cifar-10-batches-bin/data_batch_1.bin", Arrays.copyOf(record(1, 3), 3000));
        Path records = dir.resolve("records.tar.gz");
        writeTarGz(records, e);
        assertError("cifar10:" + records, "records.tar.gz", "not a whole number of 3073-byte records");

        byte[] whole = Files.readAllBytes(cifar10());
        Path cut = dir.resolve("cut.tar.gz");
        Files.write(cut, Arrays.copyOf(whole, whole.length / 2));
        assertError("cifar10:" + cut, "cut.tar.gz", "corrupt or truncated");

        byte[] corrupt = whole.clone();
        for (int i = 20; i < corrupt.length; i += 3) {
            corrupt[i] ^= 0x5A;
        }
        Path bad = dir.resolve("corrupt.tar.gz");
        Files.write(bad, corrupt);
        assertError("cifar10:" + bad, "corrupt.tar.gz", "corrupt or truncated");

        Path notGzip = dir.resolve("plain.tar.gz");
        Files.write(notGzip, "hello".getBytes(StandardCharsets.UTF_8));
        assertError("cifar10:" + notGzip, "plain.tar.gz", "corrupt or truncated");

        Path c100 = dir.resolve("wrongkind.tar.gz");
        writeTarGz(c100, Map.of("cifar-100-binary/train.bin", record(1, 2, 3)));
        assertError("cifar10:" + c100, "wrongkind.tar.gz", "no data_batch_N.bin entry");
        assertError("cifar10:" + dir.resolve("absent.tar.gz"), "absent.tar.gz", "no such file");
    }

    @Test
    void archiveIsNeverUnpacked() throws IOException {
        Path file = cifar10();
        long before;
        try (var s = Files.list(dir)) {
            before = s.count();
        }
        DataSpec.open("cifar10:" + file);
        try (var s = Files.list(dir)) {
            assertEquals(before, s.count());
        }
        assertFalse(Files.exists(dir.resolve("cifar-10-batches-bin")));
    }

    private static void assertError(String spec, String fragment1, String fragment2) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataSpec.open(spec));
        assertTrue(e.getMessage().contains(fragment1) && e.getMessage().contains(fragment2), e.getMessage());
    }
}
