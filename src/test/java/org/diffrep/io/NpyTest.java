package org.diffrep.io;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The .npy codec: round trips, headers byte by byte against the NPY 1.0 specification, and refused files. */
class NpyTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsEveryWrittenDtype() {
        float[] f = {1.5f, -2.25f, Float.MAX_VALUE, 0f, 1e-30f, 3f};
        Npy.write(dir.resolve("f.npy"), f, 2, 3);
        Npy.Array a = Npy.read(dir.resolve("f.npy"));
        assertEquals(Npy.DType.FLOAT32, a.dtype());
        assertArrayEquals(new long[]{2, 3}, a.shape());
        assertArrayEquals(f, a.toFloats());

        long[] l = {Long.MIN_VALUE, -1, 0, 7, Long.MAX_VALUE};
        Npy.write(dir.resolve("l.npy"), l);
        Npy.Array b = Npy.read(dir.resolve("l.npy"));
        assertEquals(Npy.DType.INT64, b.dtype());
        assertArrayEquals(new long[]{5}, b.shape());
        assertArrayEquals(l, b.toLongs());

        byte[] u = {0, 1, (byte) 255, (byte) 128};
        Npy.write(dir.resolve("u.npy"), u, 4, 1);
        Npy.Array c = Npy.read(dir.resolve("u.npy"));
        assertEquals(Npy.DType.UINT8, c.dtype());
        assertArrayEquals(u, c.toBytes());
        assertArrayEquals(new float[]{0, 1, 255, 128}, c.toFloats());

        Npy.write(dir.resolve("empty.npy"), new float[0], 0, 4);
        assertArrayEquals(new long[]{0, 4}, Npy.read(dir.resolve("empty.npy")).shape());
    }

    @Test
    void headerIsNumpyVersion1WithAlignedData() throws IOException {
        Npy.write(dir.resolve("x.npy"), new float[6], 2, 3);
        byte[] all = Files.readAllBytes(dir.resolve("x.npy"));
        assertEquals(0x93, all[0] & 0xFF);
        assertEquals("NUMPY", new String(all, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, all[6]);
        assertEquals(0, all[7]);
        int len = (all[8] & 0xFF) | (all[9] & 0xFF) << 8;
        assertEquals(0, (10 + len) % 64);
        String dict = new String(all, 10, len, StandardCharsets.US_ASCII);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", dict.strip());
        assertTrue(dict.endsWith("\n"));
        assertEquals(10 + len + 24, all.length);
        String oneD = new String(Npy.header(Npy.DType.INT64, 5), StandardCharsets.US_ASCII);
        assertTrue(oneD.contains("'shape': (5,)"), oneD);
        assertTrue(oneD.contains("'<i8'"), oneD);
        assertTrue(new String(Npy.header(Npy.DType.UINT8, 5), StandardCharsets.US_ASCII).contains("'|u1'"));
    }

    @Test
    void readsInt32Float64AndBigEndian() throws IOException {
        writeCustom("i4.npy", "<i4", "(3,)", le(12).putInt(-5).putInt(0).putInt(9).array());
        assertArrayEquals(new long[]{-5, 0, 9}, Npy.read(dir.resolve("i4.npy")).toLongs());
        writeCustom("f8.npy", "<f8", "(2,)", le(16).putDouble(0.25).putDouble(-3).array());
        assertArrayEquals(new float[]{0.25f, -3f}, Npy.read(dir.resolve("f8.npy")).toFloats());
        writeCustom("be.npy", ">f4", "(1,)", ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putFloat(1.75f).array());
        assertArrayEquals(new float[]{1.75f}, Npy.read(dir.resolve("be.npy")).toFloats());
    }

    @Test
    void streamingWriterPublishesOnlyWholeFiles() {
        Path file = dir.resolve("s.npy");
        try (Npy.Writer w = Npy.open(file, Npy.DType.FLOAT32, 3, 2)) {
            w.writeFloats(new float[]{1, 2});
            assertFalse(Files.exists(file), "not visible while incomplete");
            w.writeFloats(new float[]{0, 3, 4, 5, 6}, 1, 4);
        }
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, Npy.read(file).toFloats());

        Path partial = dir.resolve("p.npy");
        Npy.Writer w = Npy.open(partial, Npy.DType.INT64, 4);
        w.writeLongs(new long[]{1, 2}, 0, 2);
        assertThrows(IllegalStateException.class, w::close);
        assertFalse(Files.exists(partial));
        assertFalse(Files.exists(dir.resolve("p.npy.tmp")));
    }

    @Test
    void badFilesGiveOneClearError() throws IOException {
        Files.write(dir.resolve("magic.npy"), "PK\u0003\u0004 not numpy".getBytes(StandardCharsets.ISO_8859_1));
        assertError("magic.npy", "bad magic");
        Files.write(dir.resolve("short.npy"), new byte[]{(byte) 0x93, 'N', 'U'});
        assertError("short.npy", "truncated npy header");
        writeCustom("dtype.npy", "<c8", "(1,)", new byte[8]);
        assertError("dtype.npy", "field descr is '<c8'");
        writeCustom("fortran.npy", "<f4", "(2, 2)", new byte[16], "True");
        assertError("fortran.npy", "fortran_order");
        writeCustom("shape.npy", "<f4", "(a, 2)", new byte[16]);
        assertError("shape.npy", "field shape");
        writeCustom("trunc.npy", "<f4", "(4,)", new byte[10]);
        assertError("trunc.npy", "data truncated");
        writeCustom("long.npy", "<f4", "(1,)", new byte[8]);
        assertError("long.npy", "bytes after the data");
        byte[] good = Npy.header(Npy.DType.FLOAT32, 1);
        byte[] noDict = Arrays.copyOf(good, good.length);
        Arrays.fill(noDict, 10, noDict.length - 1, (byte) ' ');
        Files.write(dir.resolve("nodict.npy"), noDict);
        assertError("nodict.npy", "bad npy header");
        assertError("missing.npy", "no such file");
    }

    @Test
    void headersFollowTheNpyV1Spec() {
        check(Npy.header(Npy.DType.FLOAT32, 200, 64), "{'descr': '<f4', 'fortran_order': False, 'shape': (200, 64), }");
        check(Npy.header(Npy.DType.INT64, 10000), "{'descr': '<i8', 'fortran_order': False, 'shape': (10000,), }");
        check(Npy.header(Npy.DType.UINT8, 0), "{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }");
        check(Npy.header(Npy.DType.FLOAT32, 123456789L, 64 * 28 * 28),
                "{'descr': '<f4', 'fortran_order': False, 'shape': (123456789, 50176), }");
    }

    /** The spec: magic "\x93NUMPY", major 1, minor 0, uint16 LE header length, ASCII dict padded with spaces + '\n', total % 64 == 0. */
    private static void check(byte[] h, String dict) {
        assertEquals((byte) 0x93, h[0]);
        assertEquals("NUMPY", new String(h, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, h[6]);
        assertEquals(0, h[7]);
        int len = ByteBuffer.wrap(h, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
        assertEquals(h.length, 10 + len, "header length field");
        assertEquals(0, h.length % 64, "data aligned to 64 bytes");
        String text = new String(h, 10, len, StandardCharsets.US_ASCII);
        assertTrue(text.endsWith("\n"));
        assertTrue(text.startsWith(dict), text);
        assertTrue(text.substring(dict.length(), text.length() - 1).chars().allMatch(c -> c == ' '), "space padding");
    }

    @Test
    void writtenFilesReadBackAndMap() throws Exception {
        Path f = dir.resolve("a.npy");
        ByteBuffer data = ByteBuffer.allocate(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            data.putFloat(i * 0.5f);
        }
        Npy.write(f, Npy.DType.FLOAT32, new long[]{2, 3}, data.flip());
        Npy.Mapped m = Npy.map(f);
        assertArrayEquals(new long[]{2, 3}, m.header().shape());
        assertEquals(2.5f, m.data().asFloatBuffer().get(5));
        assertEquals(128, m.header().dataOffset(), "a 60-character dict + 11 bytes, padded to 128");
    }

    @Test
    void largeArraysAreMappedInChunksOfWholeRows() throws Exception {
        Path f = dir.resolve("rows.npy");
        float[] v = new float[5 * 3];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        Npy.write(f, v, 5, 3);
        Npy.Mapped m = Npy.map(f, 2 * 3 * 4 + 5); // two whole rows per chunk, never a row cut in two
        assertEquals(3, m.chunkCount());
        assertEquals(2, m.rowsPerChunk());
        assertEquals(1, m.chunkRows(2));
        assertEquals(2, m.chunkOf(4));
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], m.getFloat(i));
        }
        float[] row = new float[3];
        m.getFloats(3, row);
        assertArrayEquals(new float[]{9, 10, 11}, row);
        assertThrows(IllegalStateException.class, m::data, "several chunks have no single buffer");
        assertEquals(1, Npy.map(f).chunkCount());

        Path empty = dir.resolve("empty.npy");
        Npy.write(empty, new float[0], 0, 3);
        Npy.Mapped e = Npy.map(empty, 1);
        assertEquals(1, e.chunkCount());
        assertEquals(0, e.data().capacity());

        Path longs = dir.resolve("longs.npy");
        Npy.write(longs, new long[]{4, 5, 6, 7, 8});
        assertArrayEquals(new long[]{4, 5, 6, 7, 8}, Npy.map(longs, 16).toLongs());
        assertEquals(3, Npy.map(longs, 16).chunkCount());
    }

    @Test
    void truncatedOrForeignFilesAreRefusedWithTheFileName() throws Exception {
        Path f = dir.resolve("b.npy");
        Npy.write(f, Npy.DType.INT64, new long[]{4}, ByteBuffer.allocate(32));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 8));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.readStrictHeader(f));
        assertTrue(e.getMessage().contains("b.npy") && e.getMessage().contains("expected"), e.getMessage());
        Files.writeString(f, "not numpy at all, just text that is long enough");
        assertThrows(InvalidInputException.class, () -> Npy.readStrictHeader(f));
    }

    /** The strict reader (feature stores) takes only what this class writes; the lenient one takes more. */
    @Test
    void strictReaderTakesOnlyTheWrittenLayout() throws Exception {
        writeCustom("be.npy", ">f4", "(1,)", new byte[4]);
        assertEquals(Npy.DType.FLOAT32, Npy.readHeader(dir.resolve("be.npy")).dtype());
        assertStrictError("be.npy", "field descr is '>f4'; expected one of <f4 <i8 |u1");
        writeCustom("i4.npy", "<i4", "(1,)", new byte[4]);
        assertStrictError("i4.npy", "field descr is '<i4'");
        writeDict("order.npy", "{'shape': (1,), 'fortran_order': False, 'descr': '<f4'}", new byte[4]);
        assertEquals(1, Npy.readHeader(dir.resolve("order.npy")).count());
        assertStrictError("order.npy", "bad npy header");
        byte[] v2 = Files.readAllBytes(dir.resolve("i4.npy"));
        v2[6] = 2;
        Files.write(dir.resolve("v2.npy"), v2);
        assertStrictError("v2.npy", "npy version 2.0: expected 1.0");
        Npy.write(dir.resolve("ok.npy"), new long[]{1, 2});
        Files.write(dir.resolve("ok.npy"), new byte[]{0}, java.nio.file.StandardOpenOption.APPEND);
        assertStrictError("ok.npy", "1 bytes after the data");
    }

    private void assertStrictError(String name, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.readStrictHeader(dir.resolve(name)));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains(fragment), e.getMessage());
    }

    private void assertError(String name, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.read(dir.resolve(name)));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains(fragment), e.getMessage());
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void writeCustom(String name, String descr, String shape, byte[] data) throws IOException {
        writeCustom(name, descr, shape, data, "False");
    }

    /** A .npy file with a hand-written header, as another writer might produce it. */
    private void writeCustom(String name, String descr, String shape, byte[] data, String fortran) throws IOException {
        writeDict(name, "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }", data);
    }

    private void writeDict(String name, String dict, byte[] data) throws IOException {
        int total = 10 + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String text = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + text.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length());
        b.put(text.getBytes(StandardCharsets.US_ASCII)).put(data);
        Files.write(dir.resolve(name), b.array());
    }
}
