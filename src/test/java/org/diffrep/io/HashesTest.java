package org.diffrep.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class HashesTest {

    private static final String ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @Test
    void sha256OfBytesAndFilesAgreeWithTheStandardVector(@TempDir Path dir) throws Exception {
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        assertEquals(ABC, Hashes.hex(Hashes.sha256(abc)));
        Path f = dir.resolve("abc");
        Files.write(f, abc);
        assertArrayEquals(Hashes.sha256(abc), Hashes.sha256(f));
        assertEquals("sha256:" + ABC, Hashes.sha256Id(f));
        byte[] big = new byte[(1 << 16) * 3 + 5]; // more than one read block
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        Files.write(f, big);
        assertArrayEquals(Hashes.sha256(big), Hashes.sha256(f));
    }
}
