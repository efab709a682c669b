package org.diffrep.io;

import org.diffrep.InvalidInputException;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files, the one codec of diffrep (data files, feature stores, analysis outputs).
 *
 * <p>Writing: format version 1.0, C order, little-endian {@code <f4}, {@code <i8} and {@code |u1}; headers exactly
 * as NumPy writes them (magic, version 1.0, a Python dict literal padded with spaces and ending in a newline so the
 * data starts at a multiple of 64 bytes), so {@code numpy.load} reads every file and {@code mmap_mode='r'} works.
 * Every file is written whole or not at all ({@link AtomicFiles}: {@code NAME.tmp}, forced to the device, renamed).
 *
 * <p>Reading, two ways. {@link #readHeader(Path)} and {@link #read(Path)} take what other writers make: uint8,
 * int32, int64, float32 and float64 in either byte order, versions 1.0 to 3.0. {@link #readStrictHeader(Path)}
 * and {@link #map(Path)} take only the layout this class writes (what a feature store holds), because the data is
 * mapped as little-endian ({@link #map} maps files of any size in chunks of whole rows). Both refuse a bad file with an {@link InvalidInputException} naming the file and field,
 * and check before anything is allocated that the shape's element and byte counts do not overflow
 * ({@link Limits}).
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** The dict exactly as NumPy (and {@link #header}) writes it, for the strict reader. */
    private static final Pattern WRITTEN_DICT = Pattern.compile(
            "\\{'descr': '([<>|=][a-z]\\d+)', 'fortran_order': (True|False), 'shape': \\(([0-9, ]*)\\), \\}");
    private static final int MAX_HEADER = 1 << 20;

    private Npy() {
    }

    /** Element types that the reader knows; the writer writes UINT8, INT64 and FLOAT32. */
    public enum DType {
        UINT8("u1", 1), INT32("i4", 4), INT64("i8", 8), FLOAT32("f4", 4), FLOAT64("f8", 8);

        private final String code;
        private final int bytes;

        DType(String code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }

        /** The header's descr for little-endian data: {@code <f4}, {@code <i8}, {@code |u1}, ... */
        public String descr() {
            return (bytes == 1 ? "|" : "<") + code;
        }

        /** Bytes per element. */
        public int size() {
            return bytes;
        }

        /** True for the types that diffrep writes and {@link #readStrictHeader} reads. */
        public boolean written() {
            return this == UINT8 || this == INT64 || this == FLOAT32;
        }
    }

    /**
     * An array's header. Its element and byte counts were checked not to overflow when it was read.
     *
     * @param dtype      element type
     * @param shape      dimensions (empty for a scalar)
     * @param bigEndian  byte order of the data
     * @param dataOffset byte offset of the data in the file
     */
    public record Header(DType dtype, long[] shape, boolean bigEndian, long dataOffset) {
        /** The element count, the product of the shape. */
        public long count() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /** The data's length in bytes. */
        public long dataBytes() {
            return count() * dtype.bytes;
        }
    }

    /** A whole array read into memory: its header and its data in the header's byte order, positioned at 0. */
    public record Array(Header header, ByteBuffer data) {

        public DType dtype() {
            return header.dtype();
        }

        public long[] shape() {
            return header.shape().clone();
        }

        /** The elements converted to float (any dtype). */
        public float[] toFloats() {
            float[] out = new float[(int) header.count()];
            ByteBuffer b = data.duplicate().order(data.order());
            if (dtype() == DType.FLOAT32) {
                b.asFloatBuffer().get(out);
                return out;
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) element(b, i);
            }
            return out;
        }

        /** The elements as long; only for integer dtypes. */
        public long[] toLongs() {
            if (dtype() == DType.FLOAT32 || dtype() == DType.FLOAT64) {
                throw new IllegalStateException("array of " + dtype() + " has no integer values");
            }
            long[] out = new long[(int) header.count()];
            ByteBuffer b = data.duplicate().order(data.order());
            if (dtype() == DType.INT64) {
                b.asLongBuffer().get(out);
                return out;
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = (long) element(b, i);
            }
            return out;
        }

        /** The raw bytes of a uint8 array. */
        public byte[] toBytes() {
            if (dtype() != DType.UINT8) {
                throw new IllegalStateException("array of " + dtype() + " is not uint8");
            }
            byte[] out = new byte[(int) header.count()];
            data.duplicate().get(out);
            return out;
        }

        private double element(ByteBuffer b, int i) {
            return switch (dtype()) {
                case UINT8 -> b.get(i) & 0xFF;
                case INT32 -> b.getInt(i * 4);
                case INT64 -> b.getLong(i * 8);
                case FLOAT32 -> b.getFloat(i * 4);
                case FLOAT64 -> b.getDouble(i * 8);
            };
        }
    }

    /**
     * A mapped array (read-only, little-endian): its header and its data bytes, mapped in chunks of whole rows
     * (a row is one index of the first dimension). One {@link MappedByteBuffer} holds at most 2 GiB, so a file
     * larger than the chunk size ({@link #CHUNK_BYTES} unless given) is mapped as several; a row never spans two
     * chunks. Element accessors take absolute indices over the whole array.
     */
    public static final class Mapped {
        private final Header header;
        private final List<MappedByteBuffer> chunks;
        private final long rows;
        private final long rowBytes;
        private final long rowsPerChunk;

        private Mapped(Header header, List<MappedByteBuffer> chunks, long rows, long rowBytes, long rowsPerChunk) {
            this.header = header;
            this.chunks = List.copyOf(chunks);
            this.rows = rows;
            this.rowBytes = rowBytes;
            this.rowsPerChunk = rowsPerChunk;
        }

        public Header header() {
            return header;
        }

        /** Rows: the first dimension (1 for a scalar). */
        public long rows() {
            return rows;
        }

        /** Bytes of one row (the product of the shape after the first dimension, times the element size). */
        public long rowBytes() {
            return rowBytes;
        }

        /** Number of mapped chunks (at least 1). */
        public int chunkCount() {
            return chunks.size();
        }

        /** Rows in every chunk but perhaps the last. */
        public long rowsPerChunk() {
            return rowsPerChunk;
        }

        /** The first row of chunk {@code c}. */
        public long firstRow(int c) {
            return c * rowsPerChunk;
        }

        /** The rows of chunk {@code c}. */
        public long chunkRows(int c) {
            return Math.min(rowsPerChunk, rows - firstRow(c));
        }

        /** Chunk {@code c}: a read-only little-endian buffer over its rows, positioned at 0. */
        public MappedByteBuffer chunk(int c) {
            return chunks.get(c);
        }

        /** The chunk holding row {@code row}. */
        public int chunkOf(long row) {
            if (row < 0 || row >= rows) {
                throw new IndexOutOfBoundsException("row " + row + " of " + rows);
            }
            return (int) (row / rowsPerChunk);
        }

        /**
         * All the data as one buffer: only for an array mapped as one chunk (files up to the chunk size);
         * larger arrays are read through {@link #chunk(int)} or the element accessors.
         */
        public MappedByteBuffer data() {
            if (chunks.size() != 1) {
                throw new IllegalStateException(header.dataBytes() + " data bytes are mapped as " + chunks.size()
                        + " chunks; read them per chunk");
            }
            return chunks.get(0);
        }

        /** The chunk holding the byte at {@code byteOffset} of the data. */
        private int chunkIndex(long byteOffset) {
            return rowBytes == 0 ? 0 : (int) (byteOffset / (rowsPerChunk * rowBytes));
        }

        private int within(long byteOffset, int c) {
            return (int) (byteOffset - firstRow(c) * rowBytes);
        }

        /** Element {@code i} of an int64 array. */
        public long getLong(long i) {
            long off = i * 8;
            int c = chunkIndex(off);
            return chunks.get(c).getLong(within(off, c));
        }

        /** Element {@code i} of a float32 array. */
        public float getFloat(long i) {
            long off = i * 4;
            int c = chunkIndex(off);
            return chunks.get(c).getFloat(within(off, c));
        }

        /** Element {@code i} of a uint8 array, as 0..255. */
        public int getUnsignedByte(long i) {
            int c = chunkIndex(i);
            return chunks.get(c).get(within(i, c)) & 0xFF;
        }

        /** Row {@code row} of a float32 array into {@code dst} (its length is the row's element count). */
        public void getFloats(long row, float[] dst) {
            int c = chunkOf(row);
            chunks.get(c).asFloatBuffer().get(Math.toIntExact((row - firstRow(c)) * rowBytes / 4), dst);
        }

        /** Row {@code row} of an int64 array into {@code dst}. */
        public void getLongs(long row, long[] dst) {
            int c = chunkOf(row);
            chunks.get(c).asLongBuffer().get(Math.toIntExact((row - firstRow(c)) * rowBytes / 8), dst);
        }

        /** All elements of an int64 array (at most one Java array). */
        public long[] toLongs() {
            long[] out = new long[Math.toIntExact(header.count())];
            int at = 0;
            for (MappedByteBuffer b : chunks) {
                java.nio.LongBuffer l = b.asLongBuffer();
                int k = l.remaining();
                l.get(out, at, k);
                at += k;
            }
            return out;
        }
    }

    /** Rows of at most this many bytes go into one mapped chunk (1 GiB). */
    public static final long CHUNK_BYTES = 1L << 30;

    // ---------------------------------------------------------------- writing

    /**
     * The 1.0 header of an array, byte for byte as NumPy writes it: magic, version, length, and the dict padded
     * with spaces and a newline so the data starts at a multiple of 64.
     */
    public static byte[] header(DType dtype, long... shape) {
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            dims.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        if (shape.length == 1) {
            dims.append(',');
        }
        String dict = "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        if (total - MAGIC.length - 4 > 0xFFFF) {
            throw new IllegalArgumentException("shape too long for a version 1.0 npy header: " + Arrays.toString(shape));
        }
        String text = dict + " ".repeat(total - unpadded) + "\n";
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length());
        b.put(text.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** Writes float32 {@code <f4} data of the given shape (default 1-D). */
    public static void write(Path file, float[] data, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        writeUnchecked(file, DType.FLOAT32, shapeOr(shape, data.length), b);
    }

    /** Writes int64 {@code <i8} data of the given shape (default 1-D). */
    public static void write(Path file, long[] data, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(data);
        writeUnchecked(file, DType.INT64, shapeOr(shape, data.length), b);
    }

    /** Writes uint8 {@code |u1} data of the given shape (default 1-D). */
    public static void write(Path file, byte[] data, long... shape) {
        writeUnchecked(file, DType.UINT8, shapeOr(shape, data.length), ByteBuffer.wrap(data));
    }

    private static long[] shapeOr(long[] shape, int length) {
        return shape.length == 0 ? new long[]{length} : shape;
    }

    private static void writeUnchecked(Path file, DType dtype, long[] shape, ByteBuffer littleEndianData) {
        try {
            write(file, dtype, shape, littleEndianData);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + AtomicFiles.tempOf(file), e);
        }
    }

    /**
     * Writes a whole array whose little-endian bytes are {@code littleEndianData} (its remaining bytes, exactly
     * the shape's), whole or not at all.
     */
    public static void write(Path file, DType dtype, long[] shape, ByteBuffer littleEndianData) throws IOException {
        byte[] header = header(dtype, shape);
        long expected = Limits.bytes(Limits.product(shape, file + ": shape"), dtype.bytes, file + ": shape");
        if (littleEndianData.remaining() != expected) {
            throw new IllegalStateException(file + ": " + littleEndianData.remaining() + " data bytes for shape "
                    + Arrays.toString(shape) + " of " + dtype.descr() + ", which holds " + expected
                    + "; the file was not created");
        }
        AtomicFiles.writeSynced(file, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            AtomicFiles.writeFully(ch, littleEndianData);
        });
    }

    /**
     * Opens a streaming writer for an array of known shape, for data that arrives in batches (rows in C order).
     * The file appears under its name only when {@link Writer#close()} finds every element written;
     * otherwise the temporary file is deleted.
     */
    public static Writer open(Path file, DType dtype, long... shape) {
        return new Writer(file, dtype, shape);
    }

    /** A streaming .npy writer; not thread-safe. */
    public static final class Writer implements AutoCloseable {
        private final Path file;
        private final DType dtype;
        private final long expectedBytes;
        private final AtomicFiles.Pending pending;
        private OutputStream out;
        private long written;

        private Writer(Path file, DType dtype, long[] shape) {
            this.file = file;
            this.dtype = dtype;
            byte[] header = header(dtype, shape);
            this.expectedBytes = Limits.bytes(Limits.product(shape, file + ": shape"), dtype.bytes, file + ": shape");
            try {
                pending = AtomicFiles.begin(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + AtomicFiles.tempOf(file), e);
            }
            out = new BufferedOutputStream(pending.stream(), 1 << 16);
            try {
                out.write(header);
            } catch (IOException e) {
                abandon();
                throw new UncheckedIOException("cannot write " + pending.temp(), e);
            }
        }

        /** Appends float32 elements. */
        public void writeFloats(float[] values, int offset, int length) {
            requireDtype(DType.FLOAT32);
            ByteBuffer b = ByteBuffer.allocate(length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values, offset, length);
            writeBytes(b.array(), 0, b.capacity());
        }

        /** Appends all of {@code values} (float32). */
        public void writeFloats(float[] values) {
            writeFloats(values, 0, values.length);
        }

        /** Appends all of {@code values} (int64). */
        public void writeLongs(long[] values) {
            writeLongs(values, 0, values.length);
        }

        /** Appends int64 elements. */
        public void writeLongs(long[] values, int offset, int length) {
            requireDtype(DType.INT64);
            ByteBuffer b = ByteBuffer.allocate(length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(values, offset, length);
            writeBytes(b.array(), 0, b.capacity());
        }

        /** Appends raw little-endian bytes of elements of this writer's dtype. */
        public void writeBytes(byte[] bytes, int offset, int length) {
            if (written + length > expectedBytes) {
                throw new IllegalStateException(file + ": more data than the shape holds (" + expectedBytes + " bytes)");
            }
            try {
                out.write(bytes, offset, length);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + pending.temp(), e);
            }
            written += length;
        }

        private void requireDtype(DType d) {
            if (dtype != d) {
                throw new IllegalStateException(file + " holds " + dtype + ", not " + d);
            }
        }

        /** Renames the file into place if it is whole; deletes the temporary file otherwise. */
        @Override
        public void close() {
            if (out == null) {
                return;
            }
            if (written != expectedBytes) {
                abandon();
                throw new IllegalStateException(file + ": wrote " + written + " of " + expectedBytes
                        + " data bytes; the file was not created");
            }
            try {
                out.flush();
                out = null;
                pending.sync();
                pending.commit();
            } catch (IOException e) {
                abandon();
                throw new UncheckedIOException("cannot finish " + file, e);
            }
        }

        private void abandon() {
            out = null;
            try {
                pending.close();
            } catch (IOException e) {
                // nothing was published; the write failure is the one worth reporting
            }
        }
    }

    // ---------------------------------------------------------------- reading

    /**
     * Reads and validates the header of a .npy file of any supported dtype, byte order and version.
     *
     * @throws InvalidInputException for a missing or unreadable file or a bad header, naming the file and field
     */
    public static Header readHeader(Path file) {
        try (FileChannel ch = openForReading(file)) {
            return parseHeader(ch, file, false);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read the npy header: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a whole .npy file. The data must be exactly as long as the header's shape says.
     *
     * @throws InvalidInputException for a missing file, a bad magic or header, an unsupported dtype, Fortran order,
     *                               or data shorter or longer than the shape
     */
    public static Array read(Path file) {
        return read(file, 1);
    }

    /**
     * {@link #read(Path)}, checking before anything is allocated that the data, with {@code copies} arrays of its
     * size alive at once (a conversion to float doubles it), fits in memory.
     */
    public static Array read(Path file, int copies) {
        try (FileChannel ch = openForReading(file)) {
            Header h = parseHeader(ch, file, false);
            requireDataLength(h, ch.size(), file);
            String shape = describe(h);
            long bytes = h.dataBytes();
            byte[] data = new byte[Limits.inMemory(bytes, copies, file.toString(), shape)];
            ByteBuffer b = ByteBuffer.wrap(data);
            int got = read(ch, b, h.dataOffset());
            if (got != data.length) {
                throw new InvalidInputException(file + ": data truncated: " + shape + " needs " + bytes
                        + " bytes, the file has " + got);
            }
            if (ch.read(ByteBuffer.allocate(1), h.dataOffset() + bytes) > 0) {
                throw new InvalidInputException(file + ": bytes after the data; expected exactly " + bytes
                        + " bytes for " + shape);
            }
            b.clear();
            b.order(h.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            return new Array(h, b);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the header of a file in the layout this class writes: version 1.0, a little-endian {@code <f4},
     * {@code <i8} or {@code |u1} array in C order, the dict as NumPy writes it padded to 64 bytes, and the file
     * exactly as long as header and data.
     *
     * @throws InvalidInputException when the file is not such an array, naming the file and field
     * @throws IOException           when the file cannot be read
     */
    public static Header readStrictHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readStrictHeader(ch, file);
        }
    }

    /** {@link #readStrictHeader(Path)} of an open file. */
    public static Header readStrictHeader(FileChannel ch, Path file) throws IOException {
        Header h = parseHeader(ch, file, true);
        requireDataLength(h, ch.size(), file);
        return h;
    }

    /**
     * Maps the data of a file that {@link #readStrictHeader(Path)} accepts, read-only and little-endian, in chunks
     * of whole rows of at most {@link #CHUNK_BYTES} each (files of any size whose rows fit in one chunk).
     */
    public static Mapped map(Path file) throws IOException {
        return map(file, CHUNK_BYTES);
    }

    /**
     * {@link #map(Path)} with chunks of at most {@code chunkBytes} (tests use tiny chunks): each chunk holds
     * {@code max(1, chunkBytes / rowBytes)} whole rows. A single row above 2 GiB (one mapped buffer) is refused.
     */
    public static Mapped map(Path file, long chunkBytes) throws IOException {
        if (chunkBytes < 1) {
            throw new IllegalArgumentException("chunkBytes " + chunkBytes + " < 1");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readStrictHeader(ch, file);
            long[] shape = h.shape();
            long rows = shape.length == 0 ? 1 : shape[0];
            long rowBytes = shape.length == 0 ? h.dtype().size()
                    : Limits.product(Arrays.copyOfRange(shape, 1, shape.length), file.toString()) * h.dtype().size();
            if (rowBytes > Integer.MAX_VALUE) {
                throw new InvalidInputException(file + ": " + rowBytes + " bytes per row for shape "
                        + Arrays.toString(shape) + "; one mapped row holds at most " + Integer.MAX_VALUE
                        + " bytes (2 GiB): extract with pooling (--pool mean) or fewer channels");
            }
            long perChunk = rowBytes == 0 ? Math.max(rows, 1) : Math.max(1, Math.min(Math.max(rows, 1),
                    Math.min(chunkBytes, Integer.MAX_VALUE) / rowBytes));
            List<MappedByteBuffer> chunks = new ArrayList<>();
            for (long first = 0; first < rows || chunks.isEmpty(); first += perChunk) {
                long count = Math.max(0, Math.min(perChunk, rows - first));
                MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset() + first * rowBytes,
                        count * rowBytes);
                buf.order(ByteOrder.LITTLE_ENDIAN);
                chunks.add(buf);
            }
            return new Mapped(h, chunks, rows, rowBytes, perChunk);
        }
    }

    private static FileChannel openForReading(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        }
    }

    private static String describe(Header h) {
        return "shape " + Arrays.toString(h.shape()) + " of " + h.dtype().descr();
    }

    /** The data after the header must be exactly as long as the shape says. */
    public static void requireDataLength(Header h, long fileSize, Path file) {
        long bytes = h.dataBytes();
        long have = fileSize - h.dataOffset();
        if (have != bytes) {
            throw new InvalidInputException(file + ": " + (have < bytes ? "data truncated" : have - bytes
                    + " bytes after the data") + ": " + describe(h) + " needs " + bytes + " data bytes, the file has "
                    + have + "; expected exactly " + bytes);
        }
    }

    /**
     * Parses a header. Lenient: versions 1.0 to 3.0, any known dtype in either byte order, the dict's keys in any
     * order and spacing. Strict: what {@link #header} writes (version 1.0, padding, the dict's exact form,
     * little-endian written dtypes). Both check that the element and byte counts do not overflow.
     */
    private static Header parseHeader(FileChannel ch, Path file, boolean strict) throws IOException {
        ByteBuffer pre = ByteBuffer.allocate(8);
        if (read(ch, pre, 0) < 8) {
            throw new InvalidInputException(file + ": truncated npy header: expected the 8-byte magic \\x93NUMPY and version");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre.get(i) != MAGIC[i]) {
                throw new InvalidInputException(file + ": bad magic: expected \\x93NUMPY, the file is not a .npy array");
            }
        }
        int major = pre.get(6) & 0xFF, minor = pre.get(7) & 0xFF;
        int lengthBytes = major == 1 ? 2 : 4;
        if (strict && (major != 1 || minor != 0)) {
            throw new InvalidInputException(file + ": npy version " + major + "." + minor + ": expected 1.0");
        }
        if (major < 1 || major > 3) {
            throw new InvalidInputException(file + ": npy version " + major + "." + minor + ": expected 1.0, 2.0 or 3.0");
        }
        ByteBuffer len = ByteBuffer.allocate(lengthBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (read(ch, len, 8) < lengthBytes) {
            throw new InvalidInputException(file + ": truncated npy header: expected its " + lengthBytes + "-byte length");
        }
        long headerLength = lengthBytes == 2 ? Short.toUnsignedInt(len.getShort(0)) : len.getInt(0);
        if (headerLength < 0 || headerLength > MAX_HEADER) {
            throw new InvalidInputException(file + ": npy header length " + headerLength + " is not plausible");
        }
        long offset = 8 + lengthBytes;
        ByteBuffer textBytes = ByteBuffer.allocate((int) headerLength);
        if (read(ch, textBytes, offset) < headerLength) {
            throw new InvalidInputException(file + ": truncated npy header: expected " + headerLength + " header bytes");
        }
        String dict = new String(textBytes.array(), StandardCharsets.ISO_8859_1);
        if (strict && ((offset + headerLength) % 64 != 0 || !dict.endsWith("\n"))) {
            throw new InvalidInputException(file + ": npy header is not padded to 64 bytes with a final newline");
        }
        Matcher d = DESCR.matcher(dict);
        Matcher f = FORTRAN.matcher(dict);
        Matcher s = SHAPE.matcher(dict);
        if (!d.find() || !f.find() || !s.find() || strict && !WRITTEN_DICT.matcher(dict.stripTrailing()).matches()) {
            throw new InvalidInputException(file + ": bad npy header: expected a dict with 'descr', 'fortran_order' and 'shape', got "
                    + dict.strip());
        }
        if (f.group(1).equals("True")) {
            throw new InvalidInputException(file + ": field fortran_order is True; expected C order (False)");
        }
        String descr = d.group(1);
        DType dtype = dtypeOf(descr);
        if (strict && (dtype == null || !dtype.written() || !descr.equals(dtype.descr()))) {
            throw new InvalidInputException(file + ": field descr is '" + descr + "'; expected one of <f4 <i8 |u1");
        }
        if (dtype == null) {
            throw new InvalidInputException(file + ": field descr is '" + descr + "'; expected one of <u1 |u1 <i4 <i8 <f4 <f8 (or big-endian)");
        }
        List<Long> dims = new ArrayList<>();
        for (String p : s.group(1).split(",")) {
            String t = p.strip();
            if (t.isEmpty()) {
                continue;
            }
            try {
                long v = Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t);
                if (v < 0) {
                    throw new NumberFormatException();
                }
                dims.add(v);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(file + ": field shape is (" + s.group(1) + "); expected non-negative "
                        + "integers below 2^63, got '" + t + "'");
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        // The element count and byte size must not overflow: Header.count() and every reader rely on it.
        Limits.bytes(Limits.product(shape, file + ": field shape"), dtype.bytes, file + ": field shape");
        return new Header(dtype, shape, descr.charAt(0) == '>', offset + headerLength);
    }

    /** The dtype of a descr such as {@code <f4}, {@code >i8} or {@code |u1}; null when it is none of ours. */
    private static DType dtypeOf(String descr) {
        if (descr.length() != 3) {
            return null;
        }
        char order = descr.charAt(0);
        for (DType t : DType.values()) {
            if (t.code.equals(descr.substring(1))) {
                boolean orderOk = order == '<' || order == '>' || order == '=' || order == '|' && t == DType.UINT8;
                return orderOk ? t : null;
            }
        }
        return null;
    }

    /** Reads into {@code b} from {@code pos} until it is full or the file ends; returns the bytes read. */
    private static int read(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        int total = 0;
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + total);
            if (r < 0) {
                break;
            }
            total += r;
        }
        return total;
    }
}
