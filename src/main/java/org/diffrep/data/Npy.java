package org.diffrep.data;

import org.diffrep.InvalidInputException;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files, format version 1.0, C order. The writer produces little-endian {@code <f4},
 * {@code <i8} and {@code |u1} arrays that {@code numpy.load} reads; the reader accepts uint8, int32, int64,
 * float32 and float64 in either byte order and refuses anything else with a message naming the file and field.
 * Writes are atomic: the data goes to {@code NAME.tmp} and is renamed into place when whole.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** Element types that the reader knows. */
    public enum Dtype {
        UINT8("u1", 1), INT32("i4", 4), INT64("i8", 8), FLOAT32("f4", 4), FLOAT64("f8", 8);

        final String code;
        final int bytes;

        Dtype(String code, int bytes) {
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
    }

    /**
     * An array's header.
     *
     * @param dtype      element type
     * @param shape      dimensions (empty for a scalar)
     * @param bigEndian  byte order of the data
     * @param dataOffset byte offset of the data in the file
     */
    public record Header(Dtype dtype, long[] shape, boolean bigEndian, long dataOffset) {
        /** The element count, the product of the shape. */
        public long count() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A whole array read into memory: its header and its data in the header's byte order, positioned at 0. */
    public record Array(Header header, ByteBuffer data) {

        public Dtype dtype() {
            return header.dtype();
        }

        public long[] shape() {
            return header.shape().clone();
        }

        /** The elements converted to float (any dtype). */
        public float[] toFloats() {
            float[] out = new float[(int) header.count()];
            ByteBuffer b = data.duplicate().order(data.order());
            if (dtype() == Dtype.FLOAT32) {
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
            if (dtype() == Dtype.FLOAT32 || dtype() == Dtype.FLOAT64) {
                throw new IllegalStateException("array of " + dtype() + " has no integer values");
            }
            long[] out = new long[(int) header.count()];
            ByteBuffer b = data.duplicate().order(data.order());
            if (dtype() == Dtype.INT64) {
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
            if (dtype() != Dtype.UINT8) {
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

    // ---------------------------------------------------------------- writing

    /** Writes float32 {@code <f4} data of the given shape (default 1-D). */
    public static void write(Path file, float[] data, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        writeRaw(file, Dtype.FLOAT32, shapeOr(shape, data.length), b.array());
    }

    /** Writes int64 {@code <i8} data of the given shape (default 1-D). */
    public static void write(Path file, long[] data, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(data);
        writeRaw(file, Dtype.INT64, shapeOr(shape, data.length), b.array());
    }

    /** Writes uint8 {@code |u1} data of the given shape (default 1-D). */
    public static void write(Path file, byte[] data, long... shape) {
        writeRaw(file, Dtype.UINT8, shapeOr(shape, data.length), data);
    }

    private static long[] shapeOr(long[] shape, int length) {
        return shape.length == 0 ? new long[]{length} : shape;
    }

    private static void writeRaw(Path file, Dtype dtype, long[] shape, byte[] littleEndianData) {
        try (Writer w = open(file, dtype, shape)) {
            w.writeBytes(littleEndianData, 0, littleEndianData.length);
        }
    }

    /**
     * Opens a streaming writer for an array of known shape, for data that arrives in batches (rows in C order).
     * The file appears under its name only when {@link Writer#close()} finds every element written;
     * otherwise the temporary file is deleted.
     */
    public static Writer open(Path file, Dtype dtype, long... shape) {
        return new Writer(file, dtype, shape);
    }

    /** The 1.0 header of an array: magic, version, length, dict padded with spaces so the data starts at a multiple of 64. */
    public static byte[] header(Dtype dtype, long... shape) {
        StringBuilder s = new StringBuilder();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension " + d);
            }
            s.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? s.substring(0, s.length() - 1) : shape.length == 0 ? "" : s.substring(0, s.length() - 2);
        String dict = "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': (" + shapeText + "), }";
        int total = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String text = dict + " ".repeat(padded - total) + "\n";
        if (text.length() > 65535) {
            throw new IllegalArgumentException("npy header too long for format 1.0");
        }
        ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length());
        b.put(text.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** A streaming .npy writer; not thread-safe. */
    public static final class Writer implements AutoCloseable {
        private final Path file;
        private final Path temp;
        private final Dtype dtype;
        private final long expectedBytes;
        private OutputStream out;
        private long written;

        private Writer(Path file, Dtype dtype, long[] shape) {
            this.file = file;
            this.temp = file.resolveSibling(file.getFileName() + ".tmp");
            this.dtype = dtype;
            long count = 1;
            for (long d : shape) {
                count *= d;
            }
            this.expectedBytes = count * dtype.bytes;
            try {
                Path parent = file.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                out = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 16);
                out.write(header(dtype, shape));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + temp, e);
            }
        }

        /** Appends float32 elements. */
        public void writeFloats(float[] values, int offset, int length) {
            requireDtype(Dtype.FLOAT32);
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
            requireDtype(Dtype.INT64);
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
                throw new UncheckedIOException("cannot write " + temp, e);
            }
            written += length;
        }

        private void requireDtype(Dtype d) {
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
            try {
                out.close();
                out = null;
                if (written != expectedBytes) {
                    Files.deleteIfExists(temp);
                    throw new IllegalStateException(file + ": wrote " + written + " of " + expectedBytes
                            + " data bytes; the file was not created");
                }
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot finish " + file, e);
            }
        }
    }

    // ---------------------------------------------------------------- reading

    /** Reads and validates the header of a .npy file. */
    public static Header readHeader(Path file) {
        try (InputStream in = openStream(file)) {
            return parseHeader(new DataInputStream(in), file);
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
        try (InputStream raw = openStream(file)) {
            DataInputStream in = new DataInputStream(raw);
            Header h = parseHeader(in, file);
            String shape = "shape " + java.util.Arrays.toString(h.shape()) + " of " + h.dtype().descr();
            long bytes = Limits.bytes(h.count(), h.dtype().bytes, file + ": field shape");
            long have = Files.size(file) - h.dataOffset();
            if (have != bytes) {
                throw new InvalidInputException(file + ": " + (have < bytes ? "data truncated" : have - bytes
                        + " bytes after the data") + ": " + shape + " needs " + bytes + " data bytes, the file has "
                        + have + "; expected exactly " + bytes);
            }
            byte[] data = new byte[Limits.inMemory(bytes, copies, file.toString(), shape)];
            int got = in.readNBytes(data, 0, data.length);
            if (got != data.length) {
                throw new InvalidInputException(file + ": data truncated: " + shape + " needs " + bytes
                        + " bytes, the file has " + got);
            }
            if (in.read() != -1) {
                throw new InvalidInputException(file + ": bytes after the data; expected exactly " + bytes
                        + " bytes for " + shape);
            }
            ByteBuffer b = ByteBuffer.wrap(data).order(h.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            return new Array(h, b);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static InputStream openStream(Path file) throws IOException {
        try {
            return new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        }
    }

    private static Header parseHeader(DataInputStream in, Path file) throws IOException {
        byte[] magic = new byte[8];
        try {
            in.readFully(magic);
        } catch (EOFException e) {
            throw new InvalidInputException(file + ": truncated npy header: expected the 8-byte magic \\x93NUMPY and version");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (magic[i] != MAGIC[i]) {
                throw new InvalidInputException(file + ": bad magic: expected \\x93NUMPY, the file is not a .npy array");
            }
        }
        int major = magic[6];
        int headerLength;
        long offset;
        if (major == 1) {
            headerLength = Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
            offset = 10;
        } else if (major == 2 || major == 3) {
            headerLength = Integer.reverseBytes(in.readInt());
            offset = 12;
        } else {
            throw new InvalidInputException(file + ": npy version " + major + "." + magic[7] + ": expected 1.0, 2.0 or 3.0");
        }
        if (headerLength < 0 || headerLength > 1 << 20) {
            throw new InvalidInputException(file + ": npy header length " + headerLength + " is not plausible");
        }
        byte[] text = new byte[headerLength];
        if (in.readNBytes(text, 0, headerLength) != headerLength) {
            throw new InvalidInputException(file + ": truncated npy header: expected " + headerLength + " header bytes");
        }
        String dict = new String(text, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(dict);
        Matcher f = FORTRAN.matcher(dict);
        Matcher s = SHAPE.matcher(dict);
        if (!d.find() || !f.find() || !s.find()) {
            throw new InvalidInputException(file + ": bad npy header: expected a dict with 'descr', 'fortran_order' and 'shape', got "
                    + dict.strip());
        }
        if (f.group(1).equals("True")) {
            throw new InvalidInputException(file + ": field fortran_order is True; expected C order (False)");
        }
        String descr = d.group(1);
        Dtype dtype = null;
        boolean big = false;
        if (descr.length() == 3) {
            char order = descr.charAt(0);
            for (Dtype t : Dtype.values()) {
                if (t.code.equals(descr.substring(1))) {
                    dtype = t;
                }
            }
            big = order == '>';
            boolean orderOk = order == '<' || order == '>' || order == '|' && dtype == Dtype.UINT8
                    || order == '=' && dtype != null;
            if (!orderOk) {
                dtype = null;
            }
        }
        if (dtype == null) {
            throw new InvalidInputException(file + ": field descr is '" + descr + "'; expected one of <u1 |u1 <i4 <i8 <f4 <f8 (or big-endian)");
        }
        String[] parts = s.group(1).split(",");
        java.util.List<Long> dims = new java.util.ArrayList<>();
        for (String p : parts) {
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
        return new Header(dtype, shape, big, offset + headerLength);
    }
}
