package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.data.Limits;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The NumPy .npy v1.0 format as the feature store uses it: little-endian float32 ({@code <f4}),
 * int64 ({@code <i8}) and uint8 ({@code |u1}) arrays in C order. Headers are written exactly as
 * NumPy writes them (magic, version 1.0, a Python dict literal padded with spaces and ending in a
 * newline so the data starts at a multiple of 64 bytes), so {@code numpy.load} reads every file and
 * {@code mmap_mode='r'} works. Kept in this package because the store streams shards to disk and
 * needs the header length before the data exists.
 */
public final class NpyArrays {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DICT = Pattern.compile(
            "\\{'descr': '([<>|=][a-z]\\d+)', 'fortran_order': (True|False), 'shape': \\(([0-9, ]*)\\), \\}");

    private NpyArrays() {
    }

    /** Element types the store writes. */
    public enum DType {
        FLOAT32("<f4", 4), INT64("<i8", 8), UINT8("|u1", 1);

        final String descr;
        final int bytes;

        DType(String descr, int bytes) {
            this.descr = descr;
            this.bytes = bytes;
        }

        static DType of(String descr, Path file) {
            for (DType t : values()) {
                if (t.descr.equals(descr)) {
                    return t;
                }
            }
            throw new InvalidInputException(file + ": .npy dtype '" + descr + "' is not one of <f4, <i8, |u1");
        }
    }

    /** A parsed header: dtype, shape, and where the data starts. */
    public record Header(DType dtype, long[] shape, int dataOffset) {
        public long count() {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            return n;
        }

        public long dataBytes() {
            return count() * dtype.bytes;
        }
    }

    /** The header bytes NumPy writes for an array of this type and shape (length a multiple of 64). */
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
        String dict = "{'descr': '" + dtype.descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        if (total - MAGIC.length - 4 > 0xFFFF) {
            throw new IllegalArgumentException("shape too long for a v1.0 header: " + Arrays.toString(shape));
        }
        StringBuilder text = new StringBuilder(dict);
        text.append(" ".repeat(total - unpadded)).append('\n');
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) (total - MAGIC.length - 4));
        b.put(text.toString().getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** Reads and strictly checks the header of a .npy file written by this class (or by NumPy). */
    public static Header readHeader(FileChannel ch, Path file) throws IOException {
        ByteBuffer pre = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, pre, 0, file);
        byte[] magic = new byte[6];
        pre.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new InvalidInputException(file + ": not a .npy file (magic bytes missing)");
        }
        int major = pre.get() & 0xFF, minor = pre.get() & 0xFF;
        if (major != 1 || minor != 0) {
            throw new InvalidInputException(file + ": .npy version " + major + "." + minor + ", expected 1.0");
        }
        int len = pre.getShort() & 0xFFFF;
        ByteBuffer dict = ByteBuffer.allocate(len);
        readFully(ch, dict, 10, file);
        String text = new String(dict.array(), StandardCharsets.US_ASCII);
        if ((10 + len) % 64 != 0 || !text.endsWith("\n")) {
            throw new InvalidInputException(file + ": .npy header is not padded to 64 bytes with a final newline");
        }
        Matcher m = DICT.matcher(text.stripTrailing());
        if (!m.matches()) {
            throw new InvalidInputException(file + ": .npy header dict not understood: " + text.strip());
        }
        if (m.group(2).equals("True")) {
            throw new InvalidInputException(file + ": fortran_order is True, expected C order");
        }
        String dims = m.group(3).trim();
        long[] shape;
        try {
            shape = dims.isEmpty() ? new long[0] : Arrays.stream(dims.split(","))
                    .map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        } catch (NumberFormatException e) {
            throw new InvalidInputException(file + ": field shape is (" + dims + "); expected sizes below 2^63");
        }
        DType dtype = DType.of(m.group(1), file);
        // Overflow-safe: a shape whose byte count wraps around must not pass for a small file.
        Limits.bytes(Limits.product(shape, file + ": field shape"), dtype.bytes, file + ": field shape");
        Header h = new Header(dtype, shape, 10 + len);
        long expected = h.dataOffset() + h.dataBytes();
        if (ch.size() != expected) {
            throw new InvalidInputException(file + ": " + ch.size() + " bytes, expected " + expected
                    + " for shape " + Arrays.toString(shape));
        }
        return h;
    }

    /** Header of a file on disk. */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch, file);
        }
    }

    /** Maps the data part of a .npy file read-only, little-endian. */
    public static Mapped map(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readHeader(ch, file);
            if (h.dataBytes() > Integer.MAX_VALUE) {
                throw new InvalidInputException(file + ": " + h.dataBytes() + " data bytes for shape "
                        + Arrays.toString(h.shape()) + "; one mapped array holds at most " + Integer.MAX_VALUE
                        + " bytes (2 GiB): extract fewer images per store (limit, split) or fewer channels");
            }
            MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), h.dataBytes());
            buf.order(ByteOrder.LITTLE_ENDIAN);
            return new Mapped(h, buf);
        }
    }

    /** A mapped array: its header and its data bytes. */
    public record Mapped(Header header, MappedByteBuffer data) {
    }

    /** Writes a whole small array (labels, split) to a temp file and renames it into place. */
    public static void write(Path file, DType dtype, long[] shape, ByteBuffer littleEndianData) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(header(dtype, shape)));
            writeFully(ch, littleEndianData);
            ch.force(false);
        }
        AtomicFiles.moveInto(tmp, file);
    }

    static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        long p = pos;
        while (b.hasRemaining()) {
            int r = ch.read(b, p);
            if (r < 0) {
                throw new InvalidInputException(file + ": truncated .npy header");
            }
            p += r;
        }
        b.flip();
    }
}
