package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Npy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Joins the complete partial stores of one run (each written by an extraction with a {@link Partition})
 * into the store one process would have written: the same files, byte for byte, manifest included.
 *
 * <p>Every part is checked before anything is written: it must be a complete, valid partial store;
 * all parts must have the same settings except the partition (and so the same layer shapes and files);
 * partitions 0..N-1 must each be given exactly once. Each error names the part and the field. The
 * store is written into {@code OUT.tmp} beside {@code out}, each array streamed from the parts one
 * after the other (memory: one copy buffer, never a whole array), then renamed to {@code out}.
 */
public final class StoreMerge {

    private StoreMerge() {
    }

    /**
     * Merges {@code parts} (in any order) into {@code out}, a new or empty directory, and returns it.
     *
     * @throws InvalidInputException naming the part and the field at fault, before anything is written
     */
    public static Path merge(List<Path> parts, Path out) throws IOException {
        if (parts == null || parts.isEmpty()) {
            throw new InvalidInputException("store merge: no parts given; expected the directories of partitions"
                    + " 0..N-1 of one run");
        }
        List<StoreManifest> manifests = new ArrayList<>();
        for (Path p : parts) {
            manifests.add(readPart(p));
        }
        StoreManifest ref = manifests.get(0);
        StoreSettings.PartitionRange refPart = ref.settings().partition();
        Path[] byIndex = new Path[refPart.count()];
        for (int i = 0; i < parts.size(); i++) {
            Path p = parts.get(i);
            StoreManifest m = manifests.get(i);
            StoreSettings.PartitionRange pr = m.settings().partition();
            if (i > 0) {
                List<String> diffs = ref.settings().whole().differences(m.settings().whole(),
                        parts.get(0) + " has", p + " has");
                if (pr.count() != refPart.count()) {
                    diffs.add(0, "partition.count: " + parts.get(0) + " has " + refPart.count() + ", " + p
                            + " has " + pr.count());
                }
                if (!diffs.isEmpty()) {
                    throw new InvalidInputException(p + ": settings differ from " + parts.get(0)
                            + " (only the partition may differ): settings." + String.join("; settings.", diffs));
                }
                for (String field : new String[]{"layers", "files", "versions", "format"}) {
                    Object a = field(ref, field), b = field(m, field);
                    if (!Objects.equals(a, b)) {
                        throw new InvalidInputException(p + ": field " + field + " is " + b + " but " + parts.get(0)
                                + " has " + a + "; parts of one run have the same");
                    }
                }
            }
            long first = new Partition(pr.index(), pr.count()).first(pr.total());
            long end = new Partition(pr.index(), pr.count()).end(pr.total());
            if (pr.first() != first || m.settings().count() != end - first) {
                throw new InvalidInputException(p + ": field settings.partition says partition " + pr.index() + "/"
                        + pr.count() + " of " + pr.total() + " images starts at rank " + pr.first() + " with "
                        + m.settings().count() + " images; expected rank " + first + " with " + (end - first));
            }
            if (byIndex[pr.index()] != null) {
                throw new InvalidInputException(p + ": field settings.partition: partition " + pr.index() + "/"
                        + pr.count() + " is given twice, also by " + byIndex[pr.index()]);
            }
            byIndex[pr.index()] = p;
        }
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < byIndex.length; i++) {
            if (byIndex[i] == null) {
                missing.add(i);
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException("store merge: partition" + (missing.size() > 1 ? "s " : " ")
                    + missing.stream().map(i -> i + "/" + refPart.count()).toList().toString().replaceAll("[\\[\\]]", "")
                    + " of the run missing (field settings.partition of the parts given: "
                    + Arrays.stream(byIndex).filter(Objects::nonNull).count() + " of " + refPart.count() + " parts)");
        }
        checkOut(out, parts);
        write(ref, byIndex, out);
        return out;
    }

    private static Object field(StoreManifest m, String name) {
        return switch (name) {
            case "layers" -> m.layers();
            case "files" -> m.files();
            case "versions" -> m.versions();
            default -> m.format();
        };
    }

    /** The manifest of a complete, valid partial store; errors name the part. */
    private static StoreManifest readPart(Path p) {
        Path mf = p.resolve(StoreLayout.MANIFEST);
        if (!Files.isRegularFile(mf)) {
            throw new InvalidInputException(p + ": not a feature store (no " + StoreLayout.MANIFEST + ")");
        }
        StoreManifest m;
        try {
            m = StoreWriter.readManifest(mf);
        } catch (IOException e) {
            throw new InvalidInputException(mf + ": cannot read: " + e);
        }
        if (m.settings() == null) {
            throw new InvalidInputException(mf + ": field settings is missing; expected a diffrep feature store manifest");
        }
        StoreSettings.PartitionRange pr = m.settings().partition();
        if (pr == null) {
            throw new InvalidInputException(p + ": field settings.partition is missing: a whole store, not a part;"
                    + " merge joins the stores written with extract --partition I/N");
        }
        if (!m.complete()) {
            throw new InvalidInputException(p + ": field complete is false: partition " + pr.index() + "/" + pr.count()
                    + " is incomplete; finish it with diffrep extract --partition " + pr.index() + "/" + pr.count()
                    + " --resume");
        }
        if (pr.count() < 1 || pr.index() < 0 || pr.index() >= pr.count() || pr.total() < 1 || pr.first() < 0) {
            throw new InvalidInputException(mf + ": field settings.partition is " + pr
                    + "; expected 0 <= index < count and total >= 1");
        }
        FeatureStore.openPart(p); // headers, shapes and values of every listed array
        return m;
    }

    private static void checkOut(Path out, List<Path> parts) throws IOException {
        for (Path p : parts) {
            if (Files.exists(out) && Files.isSameFile(out, p)) {
                throw InvalidInputException.field("out", out + " is one of the parts; choose a new directory");
            }
        }
        if (Files.exists(out)) {
            if (!Files.isDirectory(out)) {
                throw InvalidInputException.field("out", out + " is not a directory");
            }
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw InvalidInputException.field("out", out + " is not empty; choose an empty or new directory");
                }
            }
        }
    }

    /** Streams every array of the parts, in partition order, into {@code out} (through OUT.tmp). */
    private static void write(StoreManifest ref, Path[] parts, Path out) throws IOException {
        Path abs = out.toAbsolutePath().normalize();
        Path tmp = AtomicFiles.tempOf(abs);
        AtomicFiles.deleteTree(tmp);
        Files.createDirectories(tmp);
        boolean done = false;
        try {
            long total = ref.settings().partition().total();
            for (String rel : ref.files()) {
                Npy.Header first = Npy.readStrictHeader(parts[0].resolve(rel));
                long[] shape = first.shape().clone();
                shape[0] = total;
                byte[] header = Npy.header(first.dtype(), shape);
                AtomicFiles.writeSynced(tmp.resolve(rel), ch -> {
                    AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
                    for (Path part : parts) {
                        Path file = part.resolve(rel);
                        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
                            Npy.Header h = Npy.readStrictHeader(in, file);
                            if (h.dtype() != first.dtype() || !Arrays.equals(Arrays.copyOfRange(h.shape(), 1,
                                    h.shape().length), Arrays.copyOfRange(first.shape(), 1, first.shape().length))) {
                                throw new InvalidInputException(file + ": field shape is " + Arrays.toString(h.shape())
                                        + " (" + h.dtype().descr() + "); expected rows of "
                                        + Arrays.toString(Arrays.copyOfRange(first.shape(), 1, first.shape().length))
                                        + " (" + first.dtype().descr() + ") as in " + parts[0]);
                            }
                            long pos = h.dataOffset(), end = h.dataOffset() + h.dataBytes();
                            while (pos < end) {
                                pos += in.transferTo(pos, end - pos, ch);
                            }
                        }
                    }
                });
            }
            StoreWriter.writeManifest(tmp, new StoreManifest(ref.format(), ref.settings().whole(), ref.layers(),
                    ref.files(), ref.versions(), true));
            if (Files.isDirectory(abs)) {
                Files.delete(abs); // checked empty above
            }
            Files.createDirectories(abs.getParent());
            AtomicFiles.moveInto(tmp, abs);
            done = true;
        } finally {
            if (!done) {
                AtomicFiles.deleteTree(tmp);
            }
        }
    }
}
