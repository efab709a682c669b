package org.diffrep.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CIFAR-10 and CIFAR-100 binary archives ({@code cifar-10-binary.tar.gz}, {@code cifar-100-binary.tar.gz}) read
 * straight from the tar.gz, never unpacked to disk. Records are 1 label byte (CIFAR-100: coarse then fine) and
 * 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each 32x32 row-major, i.e. CHW). The dataset holds the training
 * batches in order, then the test batch, and exposes that as its {@link Dataset#archiveSplit()}.
 */
public final class CifarReader {

    private static final int PIXELS = 3 * 32 * 32;
    /** The most bytes a CIFAR tar may hold once decompressed (the real archives hold about 180 MB). */
    static final long MAX_ARCHIVE_BYTES = 4L << 30;
    private static final long MAX_NAMES_BYTES = 1 << 20;
    private static final Pattern CIFAR10_TRAIN = Pattern.compile("data_batch_(\\d+)\\.bin");

    private CifarReader() {
    }

    /** Which labels a CIFAR-100 dataset carries. */
    public enum Labels { FINE, COARSE }

    /** Reads a CIFAR-10 binary archive. */
    public static InMemoryDataset readCifar10(Path archive, String source) {
        return read(archive, false, Labels.FINE, source);
    }

    /** Reads a CIFAR-100 binary archive with fine (100) or coarse (20) labels. */
    public static InMemoryDataset readCifar100(Path archive, Labels labels, String source) {
        return read(archive, true, labels, source);
    }

    private static InMemoryDataset read(Path archive, boolean hundred, Labels which, String source) {
        return read(archive, hundred, which, source, MAX_ARCHIVE_BYTES);
    }

    /** Reads an archive that may inflate to at most {@code maxArchiveBytes} (tests use a small bound). */
    static InMemoryDataset read(Path archive, boolean hundred, Labels which, String source, long maxArchiveBytes) {
        Map<Integer, byte[]> train = new TreeMap<>();
        byte[] test = null;
        Map<String, byte[]> names = new TreeMap<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        int record = PIXELS + (hundred ? 2 : 1);
        long records = 0;
        try (InputStream file = new BufferedInputStream(Files.newInputStream(archive), 1 << 16);
             TarArchiveInputStream tar = new TarArchiveInputStream(
                     new Bounded(new GzipCompressorInputStream(file), archive, maxArchiveBytes))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName();
                checkName(archive, name);
                if (!e.isFile()) {
                    continue;
                }
                String base = name.substring(name.replace('\\', '/').lastIndexOf('/') + 1);
                Matcher m = CIFAR10_TRAIN.matcher(base);
                boolean wanted = hundred ? base.equals("train.bin") || base.equals("test.bin")
                        || base.equals("fine_label_names.txt") || base.equals("coarse_label_names.txt")
                        : m.matches() || base.equals("test_batch.bin") || base.equals("batches.meta.txt");
                if (!wanted) {
                    continue;
                }
                String where = archive + "!" + name;
                if (!seen.add(base)) {
                    throw new InvalidInputException(where + ": a second entry named " + base
                            + "; expected each CIFAR member once");
                }
                long size = e.getSize();
                if (base.endsWith(".txt")) {
                    if (size > MAX_NAMES_BYTES) {
                        throw new InvalidInputException(where + ": field size is " + size
                                + " bytes; expected a list of class names of at most " + MAX_NAMES_BYTES + " bytes");
                    }
                    names.put(base, readEntry(tar, e, archive));
                    continue;
                }
                // Sizes are checked from the tar header before a byte is read: whole records, and all
                // records together within one in-memory array.
                if (size % record != 0) {
                    throw new InvalidInputException(where + ": truncated: field size is " + size
                            + " bytes, not a whole number of " + record + "-byte records");
                }
                records += size / record;
                Limits.inMemory(Limits.bytes(records, PIXELS, where), 2, where,
                        records + " records of " + PIXELS + " pixels in the archive so far");
                byte[] content = readEntry(tar, e, archive);
                if (base.startsWith("test")) {
                    test = content;
                } else {
                    int batch;
                    try {
                        batch = hundred ? 1 : Integer.parseInt(m.group(1));
                    } catch (NumberFormatException x) {
                        throw new InvalidInputException(where + ": batch number " + m.group(1)
                                + " is not a number of at most 9 digits; expected data_batch_1.bin .. data_batch_5.bin");
                    }
                    train.put(batch, content);
                }
            }
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(archive + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(archive + ": corrupt or truncated tar.gz (" + e.getMessage()
                    + "); expected a complete gzip-compressed tar archive", e);
        }
        if (train.isEmpty()) {
            throw new InvalidInputException(archive + ": no " + (hundred ? "train.bin" : "data_batch_N.bin")
                    + " entry; expected a CIFAR-" + (hundred ? "100" : "10") + " binary archive");
        }
        int k = hundred ? (which == Labels.FINE ? 100 : 20) : 10;
        List<byte[]> parts = new ArrayList<>(train.values());
        List<String> partNames = new ArrayList<>();
        train.keySet().forEach(i -> partNames.add(hundred ? "train.bin" : "data_batch_" + i + ".bin"));
        if (test != null) {
            parts.add(test);
            partNames.add(hundred ? "test.bin" : "test_batch.bin");
        }
        long total = 0;
        for (int p = 0; p < parts.size(); p++) {
            if (parts.get(p).length % record != 0) {
                throw new InvalidInputException(archive + "!" + partNames.get(p) + ": truncated: " + parts.get(p).length
                        + " bytes is not a whole number of " + record + "-byte records");
            }
            total += parts.get(p).length / record;
        }
        int n = (int) total;
        byte[] pixels = new byte[Limits.inMemory((long) n * PIXELS, 1, archive.toString(), n + " records")];
        int[] labels = new int[n];
        byte[] mask = new byte[n];
        int i = 0;
        for (int p = 0; p < parts.size(); p++) {
            byte[] part = parts.get(p);
            boolean isTest = test != null && p == parts.size() - 1;
            for (int r = 0; r < part.length / record; r++, i++) {
                int o = r * record;
                int label = part[o + (hundred && which == Labels.FINE ? 1 : 0)] & 0xFF;
                if (label >= k) {
                    throw new InvalidInputException(archive + "!" + partNames.get(p) + ": record " + r + ": field "
                            + (hundred ? which.name().toLowerCase() + " label" : "label") + " is " + label
                            + "; expected 0.." + (k - 1));
                }
                labels[i] = label;
                System.arraycopy(part, o + record - PIXELS, pixels, i * PIXELS, PIXELS);
                mask[i] = (byte) (isTest ? 0 : 1);
            }
        }
        String namesFile = hundred ? (which == Labels.FINE ? "fine_label_names.txt" : "coarse_label_names.txt") : "batches.meta.txt";
        List<String> classNames = classNames(names.get(namesFile), k);
        return InMemoryDataset.ofPixels(source, new int[]{3, 32, 32}, pixels, labels, classNames,
                test == null ? null : new Split(mask));
    }

    /** Refuses absolute names and names with a ".." segment, which would escape the archive's directory if unpacked. */
    static void checkName(Path archive, String name) {
        String n = name.replace('\\', '/');
        boolean escapes = n.startsWith("/") || n.matches("^[A-Za-z]:.*");
        for (String seg : n.split("/")) {
            escapes |= seg.equals("..");
        }
        if (escapes) {
            throw new InvalidInputException(archive + ": entry name '" + name
                    + "' escapes the archive (absolute or with '..'); expected relative names inside it");
        }
    }

    private static byte[] readEntry(TarArchiveInputStream tar, TarArchiveEntry e, Path archive) throws IOException {
        long size = e.getSize();
        int want = Limits.inMemory(size, 1, archive + "!" + e.getName(), "the entry's " + size + " bytes");
        // readNBytes(int) grows with the bytes that really arrive, so a size field that lies allocates nothing.
        byte[] content = tar.readNBytes(want);
        if (content.length != size) {
            throw new InvalidInputException(archive + "!" + e.getName() + ": truncated: " + content.length + " of "
                    + size + " bytes");
        }
        return content;
    }

    /**
     * A stream that refuses to yield more than {@code limit} bytes: the decompressed tar stream, so that members
     * the reader skips cannot inflate without end either.
     */
    private static final class Bounded extends java.io.FilterInputStream {
        private final Path archive;
        private final long limit;
        private long count;

        Bounded(InputStream in, Path archive, long limit) {
            super(in);
            this.archive = archive;
            this.limit = limit;
        }

        private void add(long n) {
            count += Math.max(0, n);
            if (count > limit) {
                throw new InvalidInputException(archive + ": more than " + limit + " bytes (" + Limits.human(limit)
                        + ") after decompression; a CIFAR binary archive holds about 180 MB, expected no more than "
                        + Limits.human(limit));
            }
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            add(b < 0 ? 0 : 1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int r = super.read(b, off, len);
            add(r);
            return r;
        }

        @Override
        public long skip(long n) throws IOException {
            long r = super.skip(n);
            add(r);
            return r;
        }
    }

    private static List<String> classNames(byte[] text, int k) {
        if (text == null) {
            return InMemoryDataset.genericNames(k);
        }
        List<String> names = new ArrayList<>();
        for (String line : new String(text, StandardCharsets.UTF_8).split("\\R")) {
            if (!line.isBlank()) {
                names.add(line.strip());
            }
        }
        return names.size() == k ? names : InMemoryDataset.genericNames(k);
    }
}
