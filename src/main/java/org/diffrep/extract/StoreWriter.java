package org.diffrep.extract;

import org.diffrep.BuildInfo;
import org.diffrep.InvalidInputException;
import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Writes a feature store: opens (or resumes) the directory, hands out {@link ShardWriter}s, and at
 * the end concatenates the shards into the final .npy files, writes the manifest with
 * {@code complete: true} and removes the shards. Every step is a rename of a whole file or
 * directory, so a kill at any moment leaves either a resumable store or a complete one.
 */
public final class StoreWriter {

    /**
     * A failed write of one store file. The message names the file and says "the disk is full"
     * when the cause is ENOSPC, which the bare IOException ("No space left on device") does not
     * tie to any file.
     */
    static final class WriteFailure extends IOException {
        WriteFailure(Path file, IOException cause) {
            super("cannot write " + file + ": " + (String.valueOf(cause.getMessage()).contains("No space left on device")
                    ? "the disk is full (No space left on device)" : cause.toString()), cause);
        }
    }

    /** One line for an I/O failure of the store: a {@link WriteFailure}'s own message, else the exception. */
    static String describe(IOException e) {
        return e instanceof WriteFailure ? e.getMessage() : e.toString();
    }

    private final Path dir;
    private final StoreSettings settings;
    private final boolean alreadyComplete;
    private ShardWriter.FileOpener shardFiles = ShardWriter.NEW_FILE;

    private StoreWriter(Path dir, StoreSettings settings, boolean alreadyComplete) {
        this.dir = dir;
        this.settings = settings;
        this.alreadyComplete = alreadyComplete;
    }

    /**
     * Opens {@code dir} for writing a store with these settings. A new or empty directory gets a
     * manifest with {@code complete: false}. An existing store is taken up only with
     * {@code resume}, and only when its settings equal these (else the differing settings are
     * named); leftovers of an interrupted shard are removed.
     */
    public static StoreWriter open(Path dir, StoreSettings settings, boolean resume) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw InvalidInputException.field("out", dir + ": cannot create the directory: " + e);
        }
        if (!Files.isWritable(dir)) {
            throw InvalidInputException.field("out", dir + ": the directory is not writable");
        }
        Path manifestFile = dir.resolve(StoreLayout.MANIFEST);
        try {
            if (Files.exists(manifestFile)) {
                StoreManifest stored = readManifest(manifestFile);
                if (!resume) {
                    throw InvalidInputException.fields("{out} " + InvalidInputException.literal(dir)
                            + " already holds a feature store" + (stored.complete() ? "" : " (incomplete)")
                            + "; use {resume} to continue it or choose another directory", "out", "resume");
                }
                List<String> diffs = stored.settings().differences(settings);
                if (!diffs.isEmpty()) {
                    throw InvalidInputException.field("resume", ": the store in " + dir
                            + " was made with other settings, refusing to mix: " + String.join("; ", diffs));
                }
                StoreWriter w = new StoreWriter(dir, settings, stored.complete());
                w.removeLeftovers();
                return w;
            }
            // A run killed while writing its first manifest leaves only the temp file: still a new store.
            Files.deleteIfExists(AtomicFiles.tempOf(manifestFile));
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw InvalidInputException.field("out", dir + " is not empty and holds no manifest.json;"
                            + " choose an empty or new directory");
                }
            }
            StoreWriter w = new StoreWriter(dir, settings, false);
            w.writeManifest(new StoreManifest(StoreManifest.FORMAT, settings, Map.of(), List.of(),
                    BuildInfo.versions(), false));
            return w;
        } catch (IOException e) {
            throw InvalidInputException.field("out", dir + ": cannot write the store: " + describe(e));
        }
    }

    /** True when the store was already complete: there is nothing left to compute. */
    public boolean alreadyComplete() {
        return alreadyComplete;
    }

    public Path dir() {
        return dir;
    }

    /** True when shard {@code i} is already whole on disk (from an earlier run). */
    public boolean hasShard(int i) {
        return Files.isDirectory(StoreLayout.shardDir(dir, i));
    }

    /** How shard files are opened (tests: see {@link ShardWriter.FileOpener}). */
    void shardFiles(ShardWriter.FileOpener opener) {
        this.shardFiles = opener;
    }

    /** Starts shard {@code i} of {@code rows} images. */
    ShardWriter beginShard(int i, long rows) throws IOException {
        return new ShardWriter(dir, i, rows, shardFiles);
    }

    /**
     * Concatenates the shards 0..shards-1 into the final arrays, writes the manifest with
     * {@code complete: true}, and deletes the shards.
     */
    public void finish(int shards, Map<String, StoreManifest.LayerShape> layers) throws IOException {
        Path first = StoreLayout.shardDir(dir, 0);
        TreeSet<String> rels = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(first)) {
            walk.filter(Files::isRegularFile).forEach(p -> rels.add(first.relativize(p).toString().replace('\\', '/')));
        }
        for (String rel : rels) {
            concatenate(rel, shards);
        }
        writeManifest(new StoreManifest(StoreManifest.FORMAT, settings, layers, new ArrayList<>(rels),
                BuildInfo.versions(), true));
        AtomicFiles.deleteTree(dir.resolve(StoreLayout.SHARDS));
    }

    /** Removes the shards left by a run killed after it wrote the complete manifest. */
    public void removeShards() throws IOException {
        AtomicFiles.deleteTree(dir.resolve(StoreLayout.SHARDS));
    }

    private void concatenate(String rel, int shards) throws IOException {
        Path target = dir.resolve(rel);
        Npy.Header firstHeader = null;
        long rows = 0;
        List<Path> parts = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            Path part = StoreLayout.shardDir(dir, i).resolve(rel);
            Npy.Header h = Npy.readStrictHeader(part);
            if (firstHeader == null) {
                firstHeader = h;
            } else if (h.dtype() != firstHeader.dtype() || h.shape().length != firstHeader.shape().length) {
                throw new InvalidInputException(part + ": does not match shard 0 of " + rel);
            }
            rows += h.shape()[0];
            parts.add(part);
        }
        long[] shape = firstHeader.shape().clone();
        shape[0] = rows;
        byte[] header = Npy.header(firstHeader.dtype(), shape);
        // A failure here is almost always the write side (disk full); the shards were read above.
        try {
            AtomicFiles.writeSynced(target, out -> {
                AtomicFiles.writeFully(out, ByteBuffer.wrap(header));
                for (Path part : parts) {
                    try (FileChannel in = FileChannel.open(part, StandardOpenOption.READ)) {
                        Npy.Header h = Npy.readStrictHeader(in, part);
                        long pos = h.dataOffset(), end = h.dataOffset() + h.dataBytes();
                        while (pos < end) {
                            pos += in.transferTo(pos, end - pos, out);
                        }
                    }
                }
            });
        } catch (IOException e) {
            throw new WriteFailure(AtomicFiles.tempOf(target), e);
        }
    }

    private void writeManifest(StoreManifest m) throws IOException {
        writeManifest(dir, m);
    }

    /** Writes {@code store/manifest.json} (temp file, flushed, renamed), as every store writer does. */
    static void writeManifest(Path store, StoreManifest m) throws IOException {
        Path file = store.resolve(StoreLayout.MANIFEST);
        byte[] bytes = Json.SNAKE_CASE.writeValueAsBytes(m);
        try {
            AtomicFiles.writeSynced(file, ch -> {
                AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes));
                AtomicFiles.writeFully(ch, ByteBuffer.wrap(new byte[]{'\n'}));
            });
        } catch (IOException e) {
            throw new WriteFailure(AtomicFiles.tempOf(file), e);
        }
    }

    public static StoreManifest readManifest(Path file) throws IOException {
        try {
            return Json.SNAKE_CASE.readValue(file.toFile(), StoreManifest.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new InvalidInputException(file + ": not a diffrep feature store manifest: " + e.getOriginalMessage());
        }
    }

    /** Deletes partial shards and temp files that a killed run left behind. */
    private void removeLeftovers() throws IOException {
        Path shardsDir = dir.resolve(StoreLayout.SHARDS);
        if (Files.isDirectory(shardsDir)) {
            try (Stream<Path> list = Files.list(shardsDir)) {
                for (Path p : list.toList()) {
                    if (p.getFileName().toString().endsWith(".partial")) {
                        AtomicFiles.deleteTree(p);
                    }
                }
            }
        }
        // not the store directory itself, whatever its name (Spark's attempt directories end in .tmp)
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(p -> !p.equals(dir) && p.getFileName().toString().endsWith(AtomicFiles.TEMP_SUFFIX))
                    .toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
