package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our .npy headers checked byte by byte against the NPY format specification (version 1.0). */
class NpyArraysTest {

    @Test
    void headersFollowTheNpyV1Spec() {
        check(NpyArrays.header(NpyArrays.DType.FLOAT32, 200, 64), "{'descr': '<f4', 'fortran_order': False, 'shape': (200, 64), }");
        check(NpyArrays.header(NpyArrays.DType.INT64, 10000), "{'descr': '<i8', 'fortran_order': False, 'shape': (10000,), }");
        check(NpyArrays.header(NpyArrays.DType.UINT8, 0), "{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }");
        check(NpyArrays.header(NpyArrays.DType.FLOAT32, 123456789L, 64 * 28 * 28),
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
    void writtenFilesReadBackAndMap(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("a.npy");
        ByteBuffer data = ByteBuffer.allocate(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            data.putFloat(i * 0.5f);
        }
        NpyArrays.write(f, NpyArrays.DType.FLOAT32, new long[]{2, 3}, data.flip());
        NpyArrays.Mapped m = NpyArrays.map(f);
        assertArrayEquals(new long[]{2, 3}, m.header().shape());
        assertEquals(2.5f, m.data().asFloatBuffer().get(5));
        assertEquals(128, m.header().dataOffset(), "a 60-character dict + 11 bytes, padded to 128");
    }

    @Test
    void truncatedOrForeignFilesAreRefusedWithTheFileName(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("b.npy");
        NpyArrays.write(f, NpyArrays.DType.INT64, new long[]{4}, ByteBuffer.allocate(32));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 8));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> NpyArrays.readHeader(f));
        assertTrue(e.getMessage().contains("b.npy") && e.getMessage().contains("expected"), e.getMessage());
        Files.writeString(f, "not numpy at all, just text that is long enough");
        assertThrows(InvalidInputException.class, () -> NpyArrays.readHeader(f));
    }
}
