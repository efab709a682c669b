package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;
import org.diffrep.io.Npy;
import org.diffrep.noise.SigmaGrid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile data files and specs (issue 13, "Hardened inputs"): decompression bombs, sizes whose product wraps
 * around, headers that lie about their sizes, absurd generator sizes. Each must end in one
 * {@link InvalidInputException} naming the file (or spec) and the field, before any large allocation, and fast.
 */
class HostileInputTest {

    @TempDir
    Path dir;

    // ------------------------------------------------------------------ IDX

    @Test
    void idxGzipBombInflatesNoFurtherThanItsHeaderDeclares() throws IOException {
        // 8 declared data bytes, then 256 MiB of zeros (about 250 KB compressed): the old reader inflated it all.
        Path images = dir.resolve("bomb-images-idx3-ubyte.gz");
        try (GZIPOutputStream g = new GZIPOutputStream(Files.newOutputStream(images), 1 << 16)) {
            g.write(idx(0x803, new int[]{2, 2, 2}, new byte[8]));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 256; i++) {
                g.write(zeros);
            }
        }
        Path labels = dir.resolve("l-labels-idx1-ubyte");
        Files.write(labels, idx(0x801, new int[]{2}, new byte[2]));
        InvalidInputException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                () -> assertThrows(InvalidInputException.class, () -> IdxReader.read(images, labels, "idx")));
        assertNames(e, images, "trailing data", "8 data bytes", "dims [2, 2, 2]");
    }

    @Test
    void idxGzipWhoseHeaderDeclaresMoreThanItHoldsAllocatesNothingLarge() throws IOException {
        // A 60-byte gzip that declares 300 MB of pixels: read as far as the data goes, then "truncated".
        Path images = dir.resolve("lie-images-idx3-ubyte.gz");
        Files.write(images, gzip(idx(0x803, new int[]{3, 10_000, 10_000}, new byte[5])));
        Path labels = dir.resolve("l-labels-idx1-ubyte");
        Files.write(labels, idx(0x801, new int[]{3}, new byte[3]));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxReader.read(images, labels, "idx"));
        assertNames(e, images, "truncated", "300000000 data bytes", "decompressed data has 5");
    }

    @Test
    void idxDimsAboveOneArrayAreRefusedWithTheLimit() throws IOException {
        Path images = dir.resolve("big-images-idx3-ubyte.gz");
        Files.write(images, gzip(idx(0x803, new int[]{100_000, 1000, 1000}, new byte[0])));
        Path labels = dir.resolve("l-labels-idx1-ubyte");
        Files.write(labels, idx(0x801, new int[]{1}, new byte[1]));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxReader.read(images, labels, "idx"));
        assertNames(e, images, "dims [100000, 1000, 1000]", "at most " + Limits.MAX_ARRAY + " bytes");
    }

    @Test
    void idxDimsWhoseProductWrapsAroundAreRefused() throws IOException {
        // 2^22 * 2^21 * 2^21 = 2^64 wraps to 0 = the data bytes of this 16-byte file: it used to pass.
        Path images = dir.resolve("wrap-images-idx3-ubyte");
        Files.write(images, idx(0x803, new int[]{1 << 22, 1 << 21, 1 << 21}, new byte[0]));
        assertEquals(16, Files.size(images));
        Path labels = dir.resolve("l-labels-idx1-ubyte");
        Files.write(labels, idx(0x801, new int[]{1}, new byte[1]));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxReader.read(images, labels, "idx"));
        assertNames(e, images, "field dims", "overflows");
    }

    @Test
    void idxDimensionZeroOrAboveTwoToThe31IsRefused() throws IOException {
        Path labels = dir.resolve("l-labels-idx1-ubyte");
        Files.write(labels, idx(0x801, new int[]{1}, new byte[1]));
        Path zero = dir.resolve("zero-images-idx3-ubyte");
        Files.write(zero, idx(0x803, new int[]{0, 28, 28}, new byte[0]));
        assertNames(assertThrows(InvalidInputException.class, () -> IdxReader.read(zero, labels, "idx")), zero,
                "field dimension 0", "is 0; expected 1..");
        Path huge = dir.resolve("huge-images-idx3-ubyte");
        Files.write(huge, idx(0x803, new int[]{1, -1, 1}, new byte[0]));
        assertNames(assertThrows(InvalidInputException.class, () -> IdxReader.read(huge, labels, "idx")), huge,
                "field dimension 1", "is 4294967295");
    }

    // ------------------------------------------------------------------ CIFAR

    @Test
    void cifarMemberWhoseSizeExceedsOneArrayIsRefusedBeforeReading() throws IOException {
        // The tar header declares 700,000 records (2.15 GB); the archive holds a few bytes.
        Path archive = dir.resolve("cifar.tar.gz");
        long declared = 3073L * 700_000;
        Files.write(archive, gzip(tar("cifar-10-batches-bin/data_batch_1.bin", declared, new byte[3073])));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> CifarReader.readCifar10(archive, "cifar10:x"));
        assertNames(e, archive, "data_batch_1.bin", "700000 records", "at most " + Limits.MAX_ARRAY + " bytes");
    }

    @Test
    void cifarMemberWhoseSizeLiesIsTruncatedNotAllocated() throws IOException {
        Path archive = dir.resolve("cifar.tar.gz");
        Files.write(archive, gzip(tar("cifar-10-batches-bin/data_batch_1.bin", 3073L * 100_000, new byte[3073])));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> CifarReader.readCifar10(archive, "cifar10:x"));
        assertTrue(e.getMessage().contains(archive.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void cifarArchiveThatInflatesBeyondTheLimitStops() throws IOException {
        // An entry the reader skips still has to be inflated: the decompressed stream is bounded too.
        Path archive = dir.resolve("cifar.tar.gz");
        byte[] junk = new byte[4 << 20];
        Files.write(archive, gzip(tar("cifar-10-batches-bin/junk.bin", junk.length, junk)));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> CifarReader.read(archive, false, CifarReader.Labels.FINE, "cifar10:x", 1 << 20));
        assertNames(e, archive, "after decompression", "1.0 MiB");
    }

    @Test
    void cifarBatchNumberTooLongIsAnInputError() throws IOException {
        Path archive = dir.resolve("cifar.tar.gz");
        Files.write(archive, gzip(tar("cifar-10-batches-bin/data_batch_99999999999.bin", 3073, new byte[3073])));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> CifarReader.readCifar10(archive, "cifar10:x"));
        assertNames(e, archive, "data_batch_99999999999.bin", "batch number");
    }

    // ------------------------------------------------------------------ npy

    @Test
    void npyShapeWhoseByteCountWrapsAroundIsRefused() throws IOException {
        // 2^61 x 8 float32 = 2^66 bytes wraps to 0 = this header-only file's data: it used to read as 0 samples.
        Path x = npy("x.npy", "<f4", "(2305843009213693952, 8)", new byte[0]);
        Path y = npy("y.npy", "<i8", "(2305843009213693952,)", new byte[0]);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> NpyPairReader.read(x, y, "npy"));
        assertNames(e, x, "field shape", "overflows");
        assertNames(assertThrows(InvalidInputException.class, () -> Npy.readHeader(y)), y, "field shape", "overflow");
    }

    @Test
    void npyNegativeOrHugeDimensionAndSizeMismatchAreRefused() throws IOException {
        Path y = npy("y.npy", "<i8", "(2,)", le(0L, 1L));
        Path neg = npy("neg.npy", "<f4", "(-4, 2)", new byte[0]);
        assertNames(assertThrows(InvalidInputException.class, () -> NpyPairReader.read(neg, y, "npy")), neg,
                "field shape", "'-4'");
        Path tooLong = npy("long.npy", "<f4", "(99999999999999999999, 2)", new byte[0]);
        assertNames(assertThrows(InvalidInputException.class, () -> Npy.read(tooLong)), tooLong, "field shape", "2^63");
        Path short_ = npy("short.npy", "<f4", "(2, 2)", new byte[8]);
        assertNames(assertThrows(InvalidInputException.class, () -> NpyPairReader.read(short_, y, "npy")), short_,
                "data truncated", "needs 16 data bytes, the file has 8");
        Path longer = npy("longer.npy", "<f4", "(2, 2)", new byte[20]);
        assertNames(assertThrows(InvalidInputException.class, () -> NpyPairReader.read(longer, y, "npy")), longer,
                "4 bytes after the data");
        Path big = npy("big.npy", "<f4", "(100000, 100000)", new byte[0]);
        Path bigY = npy("bigY.npy", "<i8", "(100000,)", new byte[0]);
        assertNames(assertThrows(InvalidInputException.class, () -> NpyPairReader.read(big, bigY, "npy")), big,
                "data truncated", "40000000000");
        Path empty = npy("empty.npy", "<f4", "(0, 1000000000000)", new byte[0]);
        Path emptyY = npy("emptyY.npy", "<i8", "(0,)", new byte[0]);
        assertNames(assertThrows(InvalidInputException.class, () -> NpyPairReader.read(empty, emptyY, "npy")), empty,
                "field shape", "dimension 0 is 0; expected 1..");
    }

    @Test
    void npyLabelsOutsideTheClassRangeAreRefused() throws IOException {
        Path x = npy("x.npy", "<f4", "(2, 1)", new byte[8]);
        Path wrap = npy("wrap.npy", "<i8", "(2,)", le(0L, (1L << 32) + 5));
        assertNames(assertThrows(InvalidInputException.class, () -> NpyPairReader.read(x, wrap, "npy")), wrap,
                "label[1] = 4294967301", "0..65535");
        Path neg = npy("neg.npy", "<i8", "(2,)", le(0L, -1L));
        assertNames(assertThrows(InvalidInputException.class, () -> NpyPairReader.read(x, neg, "npy")), neg,
                "label[1] = -1");
    }

    // ------------------------------------------------------------------ folder

    @Test
    void folderImageDeclaringAHugeCanvasIsRefusedBeforeDecoding() throws IOException {
        Path cls = Files.createDirectories(dir.resolve("imgs/a"));
        Path png = cls.resolve("bomb.png");
        Files.write(png, pngHeaderOnly(100_000, 100_000));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> FolderReader.read(dir.resolve("imgs"), 32, 1, "folder"));
        assertNames(e, png, "100000 x 100000", "at most " + FolderReader.MAX_PIXELS);
        InvalidInputException size = assertThrows(InvalidInputException.class,
                () -> DataSpec.open("folder:" + dir.resolve("imgs") + ",size=99999"));
        assertTrue(size.getMessage().contains("option size: expected an integer in 1..4096, got 99999"), size.getMessage());
    }

    // ------------------------------------------------------------------ generators and grids

    @Test
    void molrgSizesAreCappedAndNumbersParsedWithTheKeyNamed() {
        assertSpec("molrg:n=100000,samples=100000", "molrg field n: expected an integer in 1..16384, got 100000");
        assertSpec("molrg:n=10000,samples=100000", "samples*n at most " + MolrgParams.MAX_ELEMENTS);
        assertSpec("molrg:samples=99999999999", "molrg field samples: expected an integer in 1..2147483647, got 99999999999");
        assertSpec("molrg:n=abc", "molrg field n: expected an integer in 1..16384, got 'abc'");
        assertSpec("molrg:n=2000,K=40,d=50", "K*d at most 1024");
        assertSpec("molrg:seed=1e3", "molrg field seed: expected an integer, got '1e3'");
        assertSpec("folder:x,channels=x", "option channels: expected an integer in 1..3, got 'x'");
    }

    @Test
    void sigmaGridSizesAreCapped() {
        InvalidInputException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
                () -> assertThrows(InvalidInputException.class, () -> SigmaGrid.parse("log:0.1,1,100000000")));
        assertTrue(e.getMessage().startsWith("sigmas log:0.1,1,100000000: ") && e.getMessage().contains("at most 1000"),
                e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SigmaGrid.parse("edm:99999999999"));
        assertTrue(e.getMessage().contains("at most 1000") && e.getMessage().contains("99999999999"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SigmaGrid.parse("log:0.1,1,x"));
        assertTrue(e.getMessage().contains("expected an integer count N in 2..1000, got 'x'"), e.getMessage());
        StringBuilder list = new StringBuilder();
        for (int i = 1; i <= 1001; i++) {
            list.append(i == 1 ? "" : ",").append(i);
        }
        e = assertThrows(InvalidInputException.class, () -> SigmaGrid.parse(list.toString()));
        assertTrue(e.getMessage().contains("at most 1000 levels") && e.getMessage().length() < 200, e.getMessage());
        assertEquals(1000, SigmaGrid.parse("log:0.1,1,1000").size());
    }

    // ------------------------------------------------------------------ helpers

    private static void assertNames(InvalidInputException e, Path file, String... fragments) {
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
    }

    private static void assertSpec(String spec, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataSpec.open(spec), spec);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(data);
        }
        return out.toByteArray();
    }

    /** One ustar entry whose header declares {@code declaredSize} bytes, followed by {@code data} (maybe fewer). */
    static byte[] tar(String name, long declaredSize, byte[] data) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", declaredSize));
        put(h, 136, "00000000000");
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        h[156] = '0';
        put(h, 257, "ustar");
        put(h, 263, "00");
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        int padded = (data.length + 511) / 512 * 512;
        ByteBuffer out = ByteBuffer.allocate(512 + padded + 1024);
        out.put(h).put(data);
        return out.array();
    }

    private static void put(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }

    private Path npy(String name, String descr, String shape, byte[] data) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String text = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer b = ByteBuffer.allocate(padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length());
        b.put(text.getBytes(StandardCharsets.US_ASCII)).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static byte[] le(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            b.putLong(x);
        }
        return b.array();
    }

    /** A PNG signature and IHDR chunk (8-bit grey) declaring w x h, then IEND: no pixel data at all. */
    private static byte[] pngHeaderOnly(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12);
        b.put(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(w).putInt(h).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        b.putInt(13).put(ihdr.array()).putInt(crc(ihdr.array()));
        byte[] iend = "IEND".getBytes(StandardCharsets.US_ASCII);
        b.putInt(0).put(iend).putInt(crc(iend));
        return b.array();
    }

    private static int crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return (int) c.getValue();
    }
}
