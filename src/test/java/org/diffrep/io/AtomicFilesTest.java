package org.diffrep.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole files or none: no temporary file is left, and a failed write never replaces or half-writes a file. */
class AtomicFilesTest {

    @TempDir
    Path dir;

    @Test
    void writesCreateParentsAndLeaveNoTemporaryFile() throws IOException {
        Path f = dir.resolve("a/b/report.txt");
        AtomicFiles.writeString(f, "first");
        AtomicFiles.writeString(f, "second, replacing");
        assertEquals("second, replacing", Files.readString(f));
        AtomicFiles.writeBytes(dir.resolve("x.bin"), new byte[]{1, 2, 3});
        assertArrayEquals(new byte[]{1, 2, 3}, Files.readAllBytes(dir.resolve("x.bin")));
        AtomicFiles.writeSynced(dir.resolve("s.bin"), ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(new byte[]{9})));
        assertArrayEquals(new byte[]{9}, Files.readAllBytes(dir.resolve("s.bin")));
        assertEquals(List.of(), temporaryFiles());
    }

    @Test
    void aFailedWriteKeepsTheOldFileAndRemovesTheTemporaryOne() throws IOException {
        Path f = dir.resolve("r.json");
        AtomicFiles.writeString(f, "old");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(f, out -> {
            out.write("half of the new".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk gone");
        }));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("disk gone"), e.getMessage());
        assertEquals("old", Files.readString(f));
        assertThrows(IOException.class, () -> AtomicFiles.writeSynced(dir.resolve("new.bin"), ch -> {
            throw new IOException("no space");
        }));
        assertFalse(Files.exists(dir.resolve("new.bin")));
        assertEquals(List.of(), temporaryFiles());
    }

    @Test
    void aPendingFileAppearsOnlyWhenCommitted() throws IOException {
        Path f = dir.resolve("rows.bin");
        try (AtomicFiles.Pending p = AtomicFiles.begin(f)) {
            p.stream().write(new byte[]{1, 2});
            p.stream().close(); // closing the stream keeps the file open
            AtomicFiles.writeFully(p.channel(), ByteBuffer.wrap(new byte[]{3}));
            assertFalse(Files.exists(f), "not visible while being written");
            assertEquals(AtomicFiles.tempOf(f).toAbsolutePath(), p.temp());
            assertTrue(Files.exists(p.temp()));
            p.sync();
            p.commit();
        }
        assertArrayEquals(new byte[]{1, 2, 3}, Files.readAllBytes(f));

        Path abandoned = dir.resolve("abandoned.bin");
        try (AtomicFiles.Pending p = AtomicFiles.begin(abandoned)) {
            p.stream().write(new byte[]{1});
        }
        assertFalse(Files.exists(abandoned));
        assertEquals(List.of(), temporaryFiles());
    }

    @Test
    void directoriesMoveIntoPlaceAndTreesAreDeleted() throws IOException {
        Path partial = dir.resolve("shard.partial");
        Files.createDirectories(partial.resolve("sub"));
        Files.writeString(partial.resolve("sub/f"), "x");
        Path done = dir.resolve("shard");
        AtomicFiles.moveInto(partial, done);
        assertEquals("x", Files.readString(done.resolve("sub/f")));
        assertFalse(Files.exists(partial));
        AtomicFiles.deleteTree(done);
        assertFalse(Files.exists(done));
        AtomicFiles.deleteTree(done); // absent: nothing to do
    }

    private List<Path> temporaryFiles() throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(AtomicFiles.TEMP_SUFFIX)).toList();
        }
    }
}
