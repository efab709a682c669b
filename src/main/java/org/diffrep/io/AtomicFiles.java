package org.diffrep.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Files that appear whole or not at all. Every writer in diffrep goes through here: the content goes to
 * {@code NAME.tmp} in the target's directory (so the rename never crosses a file system), and only a
 * whole file is renamed over {@code NAME} ({@link StandardCopyOption#ATOMIC_MOVE}, replacing an older
 * file). A failure deletes the temporary file; the target is then untouched. Stores and arrays are forced
 * to the device before the rename ({@link #writeSynced}, {@link Pending#sync}), reports and plots are not.
 */
public final class AtomicFiles {

    /** Suffix of the temporary file beside the target (stores remove leftovers with it on resume). */
    public static final String TEMP_SUFFIX = ".tmp";

    /** Something that writes a file's content to a stream (which it need not close). */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Something that writes a file's content to a channel. */
    @FunctionalInterface
    public interface ChannelContent {
        void writeTo(FileChannel ch) throws IOException;
    }

    private AtomicFiles() {
    }

    /** The temporary file that stands for {@code target} until it is whole: {@code NAME.tmp} beside it. */
    public static Path tempOf(Path target) {
        return target.resolveSibling(target.getFileName() + TEMP_SUFFIX);
    }

    /**
     * Writes {@code file} whole or not at all (not forced to the device); creates its parent directories.
     *
     * @throws UncheckedIOException naming the file
     */
    public static void write(Path file, Content content) {
        try (Pending p = begin(file)) {
            content.writeTo(p.stream());
            p.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes a UTF-8 text file whole or not at all. */
    public static void writeString(Path file, String text) {
        writeBytes(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes bytes to a file whole or not at all. */
    public static void writeBytes(Path file, byte[] bytes) {
        write(file, out -> out.write(bytes));
    }

    /**
     * Writes {@code file} through a channel, forces it to the device and renames it into place; creates its
     * parent directories. For the files of a store, where a crash must leave either the old or the whole file.
     */
    public static void writeSynced(Path file, ChannelContent content) throws IOException {
        try (Pending p = begin(file)) {
            content.writeTo(p.channel());
            p.sync();
            p.commit();
        }
    }

    /**
     * Starts a file that is written over a longer time (batch by batch): its content goes to the temporary
     * file until {@link Pending#commit()}; closing it uncommitted deletes the temporary file. The temporary
     * file is opened with CREATE, WRITE and TRUNCATE_EXISTING (a leftover of a killed run is overwritten).
     */
    public static Pending begin(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path parent = abs.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = tempOf(abs);
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        return new Pending(abs, tmp, ch);
    }

    /** A file being written under its temporary name; not thread-safe. */
    public static final class Pending implements AutoCloseable {
        private final Path target;
        private final Path temp;
        private final FileChannel channel;
        private boolean done;

        private Pending(Path target, Path temp, FileChannel channel) {
            this.target = target;
            this.temp = temp;
            this.channel = channel;
        }

        /** The file the content will have once committed. */
        public Path target() {
            return target;
        }

        /** The temporary file being written. */
        public Path temp() {
            return temp;
        }

        /** The temporary file's channel. */
        public FileChannel channel() {
            return channel;
        }

        /** An unbuffered stream onto the channel; closing it only flushes (the channel stays open). */
        public OutputStream stream() {
            return new NonClosing(Channels.newOutputStream(channel));
        }

        /** Forces the content written so far to the device. */
        public void sync() throws IOException {
            channel.force(false);
        }

        /** Closes the temporary file and renames it over the target. */
        public void commit() throws IOException {
            if (done) {
                throw new IllegalStateException(target + ": already committed or abandoned");
            }
            done = true;
            try {
                channel.close();
                moveInto(temp, target);
            } catch (IOException | RuntimeException e) {
                deleteQuietly(temp, e);
                throw e;
            }
        }

        /** Abandons an uncommitted file: closes it and deletes the temporary file; nothing after a commit. */
        @Override
        public void close() throws IOException {
            if (done) {
                return;
            }
            done = true;
            try {
                channel.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }

    /**
     * Renames {@code from} (a whole file or directory) onto {@code target} in the same directory, atomically
     * where the file system can (replacing a file of that name), else with a plain rename.
     */
    public static void moveInto(Path from, Path target) throws IOException {
        try {
            Files.move(from, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Deletes a file or a directory tree if it exists. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    /** Writes all of {@code b} (one channel write may write less). */
    public static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void deleteQuietly(Path p, Exception cause) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            cause.addSuppressed(e); // the original failure is the one worth reporting
        }
    }

    /** Writers such as Jackson close the stream they write to; the file is closed here, once whole. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
