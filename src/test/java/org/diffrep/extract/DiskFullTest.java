package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.model.NetworkDenoiser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The disk fills while a store is written: a real ENOSPC from the kernel, by writing into
 * /dev/full (every write(2) there fails with "No space left on device"). The run must stop with a
 * message naming the file and saying the disk is full, leave nothing marked complete, and a
 * {@code --resume} run afterwards (space available again) must finish the store byte-identical to
 * an uninterrupted run.
 */
class DiskFullTest {

    private static final Path DEV_FULL = Path.of("/dev/full");
    private static final String NO_SPACE = "No space left on device";
    static NetworkDenoiser model;

    @BeforeAll
    static void setUp() {
        org.diffrep.ops.Threads.set(2);
        model = ExtractFixture.mlp();
    }

    @BeforeEach
    void needsDevFull() {
        assumeTrue(Files.exists(DEV_FULL) && Files.isWritable(DEV_FULL), "/dev/full is needed for a real ENOSPC");
    }

    @Test
    void diskFullWhileWritingAShardNamesTheFileAndResumeFinishes(@TempDir Path tmp) throws Exception {
        Path whole = tmp.resolve("whole"), out = tmp.resolve("store");
        ExtractFixture.run(ExtractFixture.config(whole).build(), model);

        // Shard files are created with CREATE_NEW, so a planted symlink cannot redirect them: the
        // opener makes the real file (as the writer would) and hands back a channel on /dev/full.
        Path full = StoreLayout.shardPartialDir(out, 1).resolve(StoreLayout.features("enc.0", 1));
        ExtractConfig cfg = ExtractFixture.config(out).build();
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> new Extractor(cfg).log(null)
                .shardFiles(file -> {
                    if (!file.equals(full)) {
                        return ShardWriter.NEW_FILE.open(file);
                    }
                    ShardWriter.NEW_FILE.open(file).close();
                    return FileChannel.open(DEV_FULL, StandardOpenOption.WRITE);
                })
                .run(model, "mlp-seed-1234", ExtractFixture.mnist()));
        assertClearDiskFullMessage(e, full);

        assertIncomplete(out);
        assertTrue(Files.isDirectory(StoreLayout.shardDir(out, 0)), "shard 0 was whole before the disk filled");
        assertFalse(Files.exists(StoreLayout.shardDir(out, 1)), "the half-written shard 1 was not renamed into place");
        assertFalse(Files.exists(out.resolve("features")), "no final array was written");

        ExtractSummary resumed = ExtractFixture.run(ExtractFixture.config(out).resume(true).build(), model);
        assertEquals(200 - 64, resumed.computed(), "shards 1 to 3 are computed again, shard 0 is kept");
        assertEquals(List.of(), ExtractFixture.differingFiles(whole, out, ""));
        assertTrue(FeatureStore.open(out).manifest().complete());
    }

    @Test
    void diskFullWhileConcatenatingLeavesTheStoreIncompleteAndResumeFinishes(@TempDir Path tmp) throws Exception {
        Path whole = tmp.resolve("whole"), out = tmp.resolve("store");
        ExtractFixture.run(ExtractFixture.config(whole).build(), model);

        // The final arrays are written as FILE.tmp (CREATE, TRUNCATE_EXISTING) and renamed: once the
        // last shard is whole, a symlink at one of those temp paths sends its writes to /dev/full.
        String rel = StoreLayout.features("enc.0", 1);
        Path tmpFile = out.resolve(rel + ".tmp");
        ExtractConfig cfg = ExtractFixture.config(out).build();
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> new Extractor(cfg).log(null)
                .listener(new Extractor.Listener() {
                    @Override
                    public void afterShard(int shard) {
                        if (shard == 3) {
                            try {
                                Files.createDirectories(tmpFile.getParent());
                                Files.createSymbolicLink(tmpFile, DEV_FULL);
                            } catch (IOException x) {
                                throw new UncheckedIOException(x);
                            }
                        }
                    }
                }).run(model, "mlp-seed-1234", ExtractFixture.mnist()));
        assertClearDiskFullMessage(e, tmpFile);

        assertIncomplete(out);
        assertFalse(Files.exists(out.resolve(rel)), rel + " was not renamed into place");
        for (int s = 0; s < 4; s++) {
            assertTrue(Files.isDirectory(StoreLayout.shardDir(out, s)), "shard " + s + " is kept for --resume");
        }

        ExtractSummary resumed = ExtractFixture.run(ExtractFixture.config(out).resume(true).build(), model);
        assertEquals(0, resumed.computed(), "every shard was whole: only the final arrays are redone");
        assertFalse(Files.exists(tmpFile, LinkOption.NOFOLLOW_LINKS), "--resume removed the leftover .tmp");
        assertEquals(List.of(), ExtractFixture.differingFiles(whole, out, ""));
        assertTrue(FeatureStore.open(out).manifest().complete());
    }

    /** Says the disk is full, names the file, says to resume; underneath, the kernel's own ENOSPC. */
    private static void assertClearDiskFullMessage(UncheckedIOException e, Path file) {
        String m = e.getMessage();
        assertTrue(m.contains("the disk is full"), m);
        assertTrue(m.contains(file.toString()), m);
        assertTrue(m.contains("nothing was marked complete") && m.contains("rerun with resume"), m);
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        assertTrue(root instanceof IOException && String.valueOf(root.getMessage()).contains(NO_SPACE),
                "a real ENOSPC, not a simulated one: " + root);
    }

    private static void assertIncomplete(Path out) throws IOException {
        assertFalse(StoreWriter.readManifest(out.resolve(StoreLayout.MANIFEST)).complete(), "manifest complete: false");
        assertThrows(InvalidInputException.class, () -> FeatureStore.open(out), "an incomplete store is refused");
    }
}
