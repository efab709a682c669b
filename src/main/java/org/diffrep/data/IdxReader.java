package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * IDX files (MNIST, Fashion-MNIST, KMNIST): an images file {@code [N, H, W]} and a labels file {@code [N]}, both
 * unsigned bytes, gzip-compressed or raw (told apart by the gzip magic bytes 1f 8b, not the file name).
 */
public final class IdxReader {

    private static final int UBYTE = 0x08;

    private IdxReader() {
    }

    /**
     * Reads an images file and a labels file into a dataset of shape {1, H, W}; classes are 0..max(label).
     *
     * @throws InvalidInputException for a missing, truncated, corrupt or wrong-magic file, or a count mismatch
     */
    public static InMemoryDataset read(Path images, Path labels, String source) {
        return read(parse(Source.of(images), 3), images.toString(), parse(Source.of(labels), 1), labels.toString(), source);
    }

    /**
     * Reads images and labels given as file contents (gzip-compressed or raw), as {@link #read(Path, Path, String)}
     * does; {@code images} and {@code labels} name them in error messages. This is how the data built into the
     * jar ({@link BuiltinData}) is read: the same parser, without a file on disk.
     *
     * @throws InvalidInputException for truncated, corrupt or wrong-magic contents, or a count mismatch
     */
    public static InMemoryDataset read(byte[] imagesBytes, String images, byte[] labelsBytes, String labels, String source) {
        return read(parse(Source.of(imagesBytes, images), 3), images, parse(Source.of(labelsBytes, labels), 1), labels,
                source);
    }

    private static InMemoryDataset read(Idx img, String images, Idx lab, String labels, String source) {
        if (img.dims[0] != lab.dims[0]) {
            throw new InvalidInputException(images + " and " + labels + ": field count: " + img.dims[0]
                    + " images but " + lab.dims[0] + " labels; expected the same number");
        }
        int[] y = new int[lab.dims[0]];
        int max = 0;
        for (int i = 0; i < y.length; i++) {
            y[i] = lab.data[i] & 0xFF;
            max = Math.max(max, y[i]);
        }
        return InMemoryDataset.ofPixels(source, new int[]{1, img.dims[1], img.dims[2]}, img.data, y,
                InMemoryDataset.genericNames(max + 1), null);
    }

    /**
     * Finds the images and labels files in a directory: names matching {@code *images*idx3*} and
     * {@code *labels*idx1*}. Where several sets are present (train and t10k), the one whose name contains "train" is
     * taken; anything else needs the explicit form {@code idx:IMAGES,LABELS}.
     *
     * @return {images, labels}
     */
    public static Path[] findPair(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir + ": no such directory (idx:DIR expects a directory holding "
                    + "*images*idx3* and *labels*idx1* files)");
        }
        List<Path> images = new ArrayList<>();
        List<Path> labels = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
                if (name.endsWith(".tmp") || !Files.isRegularFile(f)) {
                    continue;
                }
                if (name.matches(".*images.*idx3.*")) {
                    images.add(f);
                } else if (name.matches(".*labels.*idx1.*")) {
                    labels.add(f);
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException(dir + ": cannot list: " + e.getMessage(), e);
        }
        Path img = pick(images, dir, "*images*idx3*");
        Path lab = pick(labels, dir, "*labels*idx1*");
        return new Path[]{img, lab};
    }

    private static Path pick(List<Path> found, Path dir, String pattern) {
        found.sort(null);
        if (found.size() > 1) {
            List<Path> train = found.stream()
                    .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).contains("train")).toList();
            if (train.size() == 1) {
                return train.get(0);
            }
        }
        if (found.size() == 1) {
            return found.get(0);
        }
        throw new InvalidInputException(dir + ": expected one " + pattern + " file (or one whose name contains 'train'), found "
                + (found.isEmpty() ? "none" : found.stream().map(p -> p.getFileName().toString()).toList())
                + "; name the files with idx:IMAGES,LABELS");
    }

    private record Idx(int[] dims, byte[] data) {
    }

    /**
     * Reads the header first, checks the sizes it declares (each dimension 1..2^31-1, the product without
     * overflow, within one in-memory array and the heap, and for a raw file equal to the file's data bytes),
     * and only then reads exactly that many data bytes; a gzip stream is inflated no further than one byte
     * past them, so a decompression bomb costs no more memory than its header declares.
     */
    private static Idx parse(Source file, int expectedDims) {
        long fileSize = file.size();
        try (InputStream raw = file.open()) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            boolean[] headerRead = {false};
            try {
                return parse(file, expectedDims, in, gzip, fileSize, headerRead);
            } catch (InvalidInputException e) {
                if (gzip && !headerRead[0]) {
                    // A header that makes no sense may be the first bytes of a damaged stream: say so if it is.
                    String corrupt = gzipDamage(in);
                    if (corrupt != null) {
                        throw new InvalidInputException(file + ": corrupt or truncated gzip data (" + corrupt
                                + "); expected a complete gzip stream", e);
                    }
                }
                throw e;
            }
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new InvalidInputException(file + ": corrupt or truncated gzip data (" + (e.getMessage() == null
                    ? "the stream ends early" : e.getMessage()) + "); expected a complete gzip stream", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Inflates the rest of a gzip stream into a small buffer that is thrown away, at most
     * {@link Limits#MAX_ARRAY} bytes, and returns what is wrong with it (null when it ends cleanly or is
     * merely long). Memory stays at the buffer's size.
     */
    private static String gzipDamage(InputStream in) {
        byte[] sink = new byte[1 << 16];
        long total = 0;
        try {
            int r;
            while ((r = in.read(sink)) >= 0 && total <= Limits.MAX_ARRAY) {
                total += r;
            }
            return null;
        } catch (java.io.EOFException e) {
            return "the stream ends early";
        } catch (IOException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }

    private static Idx parse(Source file, int expectedDims, InputStream in, boolean gzip, long fileSize,
                             boolean[] headerRead) throws IOException {
        {
            String data = gzip ? "the decompressed data has " : "the file has ";
            byte[] magic = in.readNBytes(4);
            if (magic.length < 4) {
                throw new InvalidInputException(file + ": truncated: " + data + magic.length
                        + " bytes, expected at least a 4-byte IDX magic");
            }
            int type = magic[2] & 0xFF;
            int ndims = magic[3] & 0xFF;
            if (magic[0] != 0 || magic[1] != 0 || type != UBYTE || ndims != expectedDims) {
                throw new InvalidInputException(String.format("%s: field magic is 0x%02x%02x%02x%02x; expected 0x000008%02x "
                                + "(IDX, unsigned bytes, %d dimension%s)", file, magic[0], magic[1], magic[2], magic[3],
                        expectedDims, expectedDims, expectedDims == 1 ? "" : "s"));
            }
            int headerBytes = 4 + 4 * ndims;
            byte[] header = in.readNBytes(4 * ndims);
            if (header.length < 4 * ndims) {
                throw new InvalidInputException(file + ": truncated header: " + data + (4 + header.length)
                        + " bytes, expected " + headerBytes);
            }
            long[] declared = new long[ndims];
            for (int i = 0; i < ndims; i++) {
                int o = 4 * i;
                declared[i] = (((header[o] & 0xFFL) << 24) | ((header[o + 1] & 0xFF) << 16)
                        | ((header[o + 2] & 0xFF) << 8) | (header[o + 3] & 0xFF));
            }
            int[] dims = new int[ndims];
            for (int i = 0; i < ndims; i++) {
                dims[i] = Limits.dimension(declared[i], 1, file + ": field dimension " + i + " of "
                        + Arrays.toString(declared));
            }
            long count = Limits.product(declared, file + ": field dims");
            String what = "dims " + Arrays.toString(dims);
            if (!gzip && fileSize - headerBytes != count) {
                long have = fileSize - headerBytes;
                throw new InvalidInputException(file + ": " + (have < count ? "truncated" : "trailing data") + ": "
                        + what + " need " + count + " data bytes, the file has " + have);
            }
            int n = Limits.inMemory(count, 2, file.name(), what);
            headerRead[0] = true;
            // readNBytes(int) grows its buffer with the data that really arrives: a header that lies costs nothing.
            byte[] body = in.readNBytes(n);
            if (body.length < n) {
                throw new InvalidInputException(file + ": truncated: " + what + " need " + count + " data bytes, "
                        + data + body.length);
            }
            if (in.read() != -1) {
                throw new InvalidInputException(file + ": trailing data: " + data + "more than the " + count
                        + " data bytes that " + what + " need; expected exactly " + count);
            }
            return new Idx(dims, body);
        }
    }

    /** The contents of a file, gunzipped when it starts with the gzip magic 1f 8b (at most 2 GiB). */
    static byte[] readMaybeGzip(Path file) {
        return readAll(Source.of(file));
    }

    /**
     * {@code raw} gunzipped when it starts with the gzip magic 1f 8b, else {@code raw} itself (at most 2 GiB);
     * {@code file} names it in errors.
     */
    static byte[] gunzipIfGzip(byte[] raw, String file) {
        return readAll(Source.of(raw, file));
    }

    private static byte[] readAll(Source file) {
        try (InputStream raw = file.open()) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            byte[] out = in.readNBytes((int) Limits.MAX_ARRAY);
            if (in.read() != -1) {
                throw new InvalidInputException(file + ": more than " + Limits.MAX_ARRAY + " bytes"
                        + (gzip ? " after decompression" : "") + "; expected at most 2 GiB");
            }
            return out;
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new InvalidInputException(file + ": corrupt or truncated gzip data (" + (e.getMessage() == null
                    ? "the stream ends early" : e.getMessage()) + "); expected a complete gzip stream", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Where IDX bytes come from: a file or an array (the data built into the jar); {@code name} is for messages. */
    private record Source(String name, long size, Path path, byte[] bytes) {

        static Source of(Path file) {
            try {
                return new Source(file.toString(), Files.size(file), file, null);
            } catch (NoSuchFileException e) {
                throw new InvalidInputException(file + ": no such file");
            } catch (IOException e) {
                throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
            }
        }

        static Source of(byte[] bytes, String name) {
            return new Source(name, bytes.length, null, bytes);
        }

        /** A stream that supports mark/reset. */
        InputStream open() throws IOException {
            return bytes != null ? new ByteArrayInputStream(bytes)
                    : new BufferedInputStream(Files.newInputStream(path), 1 << 16);
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
