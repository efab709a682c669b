package org.diffrep.data;

import org.diffrep.InvalidInputException;

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
        return read(readFile(images), images.toString(), readFile(labels), labels.toString(), source);
    }

    /**
     * Reads images and labels given as file contents (gzip-compressed or raw), as {@link #read(Path, Path, String)}
     * does; {@code imagesName} and {@code labelsName} name them in error messages. This is how the data built into the
     * jar ({@link BuiltinData}) is read: the same parser, without a file on disk.
     *
     * @throws InvalidInputException for truncated, corrupt or wrong-magic contents, or a count mismatch
     */
    public static InMemoryDataset read(byte[] imagesBytes, String images, byte[] labelsBytes, String labels, String source) {
        Idx img = parse(gunzipIfGzip(imagesBytes, images), images, 3);
        Idx lab = parse(gunzipIfGzip(labelsBytes, labels), labels, 1);
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

    private static Idx parse(byte[] bytes, String file, int expectedDims) {
        if (bytes.length < 4) {
            throw new InvalidInputException(file + ": truncated: " + bytes.length + " bytes, expected at least a 4-byte IDX magic");
        }
        int type = bytes[2] & 0xFF;
        int ndims = bytes[3] & 0xFF;
        if (bytes[0] != 0 || bytes[1] != 0 || type != UBYTE || ndims != expectedDims) {
            throw new InvalidInputException(String.format("%s: field magic is 0x%02x%02x%02x%02x; expected 0x000008%02x "
                            + "(IDX, unsigned bytes, %d dimension%s)", file, bytes[0], bytes[1], bytes[2], bytes[3],
                    expectedDims, expectedDims, expectedDims == 1 ? "" : "s"));
        }
        int headerBytes = 4 + 4 * ndims;
        if (bytes.length < headerBytes) {
            throw new InvalidInputException(file + ": truncated header: " + bytes.length + " bytes, expected " + headerBytes);
        }
        int[] dims = new int[ndims];
        long count = 1;
        for (int i = 0; i < ndims; i++) {
            int o = 4 + 4 * i;
            dims[i] = ((bytes[o] & 0xFF) << 24) | ((bytes[o + 1] & 0xFF) << 16) | ((bytes[o + 2] & 0xFF) << 8) | (bytes[o + 3] & 0xFF);
            if (dims[i] < 0) {
                throw new InvalidInputException(file + ": field dimension " + i + " is negative (" + dims[i] + ")");
            }
            count *= dims[i];
        }
        long have = bytes.length - headerBytes;
        if (have != count) {
            throw new InvalidInputException(file + ": " + (have < count ? "truncated" : "trailing data") + ": dims "
                    + Arrays.toString(dims) + " need " + count + " data bytes, the file has " + have);
        }
        return new Idx(dims, Arrays.copyOfRange(bytes, headerBytes, bytes.length));
    }

    /** The contents of a file, gunzipped when it starts with the gzip magic 1f 8b. */
    static byte[] readMaybeGzip(Path file) {
        return gunzipIfGzip(readFile(file), file.toString());
    }

    private static byte[] readFile(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** {@code raw} gunzipped when it starts with the gzip magic 1f 8b, else {@code raw} itself; {@code file} names it in errors. */
    static byte[] gunzipIfGzip(byte[] raw, String file) {
        if (raw.length >= 2 && (raw[0] & 0xFF) == 0x1f && (raw[1] & 0xFF) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw), 1 << 16)) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new InvalidInputException(file + ": corrupt or truncated gzip data (" + e.getMessage()
                        + "); expected a complete gzip stream", e);
            }
        }
        return raw;
    }
}
