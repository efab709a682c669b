package org.diffrep.extract;

import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Npy;
import org.diffrep.io.Npy.DType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One shard of a store being written: a directory {@code shards/shard_NNNNN.partial} whose arrays
 * (each a .npy file of the shard's rows, same relative paths as in the finished store) grow batch
 * by batch; {@link #commit} renames the directory to {@code shard_NNNNN} once every array holds
 * all its rows, so a shard directory without the suffix is always whole.
 */
final class ShardWriter implements AutoCloseable {

    /**
     * Opens a new array file of a shard for writing; always {@link #NEW_FILE} outside tests. A seam
     * for tests only: the files are created with CREATE_NEW (a fresh file, never through a symlink)
     * in a directory made just before, so a test cannot point one at /dev/full from outside to get a
     * real "No space left on device"; it passes an opener instead (DiskFullTest).
     */
    @FunctionalInterface
    interface FileOpener {
        FileChannel open(Path file) throws IOException;
    }

    static final FileOpener NEW_FILE = file -> FileChannel.open(file, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);

    private final Path partial;
    private final Path done;
    private final long rows;
    private final FileOpener opener;
    private final Map<String, Array> arrays = new LinkedHashMap<>();

    private static final class Array {
        final FileChannel ch;
        final Path file;
        final DType dtype;
        final long[] rowShape;
        long rowsWritten;

        Array(FileChannel ch, Path file, DType dtype, long[] rowShape) {
            this.ch = ch;
            this.file = file;
            this.dtype = dtype;
            this.rowShape = rowShape;
        }

        long rowBytes() {
            long b = dtype.size();
            for (long s : rowShape) {
                b *= s;
            }
            return b;
        }
    }

    ShardWriter(Path store, int shard, long rows, FileOpener opener) throws IOException {
        this.partial = StoreLayout.shardPartialDir(store, shard);
        this.done = StoreLayout.shardDir(store, shard);
        this.rows = rows;
        this.opener = opener;
        AtomicFiles.deleteTree(partial);
        Files.createDirectories(partial);
    }

    /** Appends {@code n} rows of shape rowShape (little-endian bytes in {@code data}) to one array. */
    void append(String rel, DType dtype, long[] rowShape, long n, ByteBuffer data) throws IOException {
        Array a = arrays.get(rel);
        if (a == null) {
            Path file = partial.resolve(rel);
            Files.createDirectories(file.getParent());
            FileChannel ch;
            try {
                ch = opener.open(file);
            } catch (IOException e) {
                throw new StoreWriter.WriteFailure(file, e);
            }
            a = new Array(ch, file, dtype, rowShape.clone());
            arrays.put(rel, a);
            long[] shape = new long[rowShape.length + 1];
            shape[0] = rows;
            System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
            write(a, ByteBuffer.wrap(Npy.header(dtype, shape)));
        } else if (a.dtype != dtype || !Arrays.equals(a.rowShape, rowShape)) {
            throw new IllegalStateException(rel + ": rows changed from " + a.dtype + Arrays.toString(a.rowShape)
                    + " to " + dtype + Arrays.toString(rowShape));
        }
        if (data.remaining() != n * a.rowBytes()) {
            throw new IllegalStateException(rel + ": " + data.remaining() + " bytes for " + n + " rows of "
                    + a.rowBytes());
        }
        if (a.rowsWritten + n > rows) {
            throw new IllegalStateException(rel + ": more than " + rows + " rows in one shard");
        }
        write(a, data);
        a.rowsWritten += n;
    }

    private static void write(Array a, ByteBuffer data) throws IOException {
        try {
            AtomicFiles.writeFully(a.ch, data);
        } catch (IOException e) {
            throw new StoreWriter.WriteFailure(a.file, e);
        }
    }

    /** Flushes every array to disk and renames the shard into place. */
    void commit() throws IOException {
        for (Map.Entry<String, Array> e : arrays.entrySet()) {
            if (e.getValue().rowsWritten != rows) {
                throw new IllegalStateException(e.getKey() + ": " + e.getValue().rowsWritten + " of " + rows
                        + " rows written");
            }
            try {
                e.getValue().ch.force(false);
            } catch (IOException x) {
                throw new StoreWriter.WriteFailure(e.getValue().file, x);
            }
        }
        closeChannels();
        AtomicFiles.moveInto(partial, done);
    }

    @Override
    public void close() throws IOException {
        closeChannels();
    }

    private void closeChannels() throws IOException {
        IOException first = null;
        for (Array a : arrays.values()) {
            try {
                a.ch.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        arrays.clear();
        if (first != null) {
            throw first;
        }
    }
}
