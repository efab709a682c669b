package org.diffrep.data;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Json;
import org.diffrep.io.Limits;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * WebDataset-style tar shards ({@code tar:DIR} or {@code tar:DIR/GLOB}): {@code *.tar} or {@code *.tar.gz} files
 * whose members are grouped by key, the member name up to the first dot after the last '/': {@code KEY.png|jpg|jpeg}
 * is the image and {@code KEY.cls} (the class index as text) or {@code KEY.json} (an object with an integer field
 * {@code label}) its label; a sample with both uses {@code .cls}; other members are ignored. Samples are in shard
 * name order, then archive order (of each key's first member).
 *
 * <p>Streaming: opening reads the archives once to build an index (shard, key, member, and for an uncompressed
 * {@code .tar} the byte offset and length of the image member) and the labels; images are decoded per batch with
 * {@link ImageDecoding}, so memory does not grow with the number of samples. A {@code .tar} batch reads each image
 * with one positional read; a {@code .tar.gz} batch inflates each shard it touches from its start up to the last
 * image it needs, so {@code .tar} is the fast path for random access. Nothing is extracted to disk. Immutable; safe
 * to batch from several threads (each batch opens its own channels and streams).
 */
public final class TarShards extends LabelledDataset {

    /** The largest label member (.cls or .json) that is read. */
    static final int MAX_LABEL_BYTES = 1 << 20;

    private final List<Path> shards;
    private final boolean[] gzip;
    private final int[] shardOf;
    private final String[] member;
    /** Byte offset of the image in its .tar, or the member's ordinal in its .tar.gz. */
    private final long[] position;
    private final int[] length;
    private final int size;
    private final int channels;

    private TarShards(List<Path> shards, boolean[] gzip, Index index, int size, int channels, String source) {
        super(source, new int[]{channels, size, size}, index.labels.stream().mapToInt(Integer::intValue).toArray(),
                InMemoryDataset.genericNames(index.labels.stream().mapToInt(l -> l + 1).max().orElse(0)));
        this.shards = List.copyOf(shards);
        this.gzip = gzip;
        this.shardOf = index.shardOf.stream().mapToInt(Integer::intValue).toArray();
        this.member = index.member.toArray(String[]::new);
        this.position = index.position.stream().mapToLong(Long::longValue).toArray();
        this.length = index.length.stream().mapToInt(Integer::intValue).toArray();
        this.size = size;
        this.channels = channels;
    }

    /**
     * Indexes the shards of {@code dirOrGlob}: a directory (all its {@code .tar}, {@code .tar.gz} and {@code .tgz}
     * files) or a glob in the last path element, e.g. {@code shards/train-*.tar}.
     *
     * @throws InvalidInputException naming the shard, the member and what was expected
     */
    public static TarShards open(String dirOrGlob, int size, int channels, String source) {
        ImageDecoding.checkOptions(size, channels, source);
        List<Path> shards = findShards(dirOrGlob);
        boolean[] gzip = new boolean[shards.size()];
        Index index = new Index();
        for (int s = 0; s < shards.size(); s++) {
            gzip[s] = isGzip(shards.get(s));
            indexShard(shards.get(s), s, gzip[s], index);
        }
        if (index.labels.isEmpty()) {
            throw new InvalidInputException(dirOrGlob + ": the shards hold no samples; expected members KEY.png|jpg|jpeg"
                    + " with KEY.cls or KEY.json labels");
        }
        return new TarShards(shards, gzip, index, size, channels, source);
    }

    private static boolean isGzip(Path shard) {
        String n = shard.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".gz") || n.endsWith(".tgz");
    }

    private static boolean isShardName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".tar") || n.endsWith(".tar.gz") || n.endsWith(".tgz");
    }

    static List<Path> findShards(String dirOrGlob) {
        Path p = Path.of(dirOrGlob);
        List<Path> found;
        if (Files.isDirectory(p)) {
            found = list(p).stream().filter(f -> Files.isRegularFile(f) && isShardName(f.getFileName().toString())).toList();
        } else if (Files.isRegularFile(p)) {
            found = List.of(p);
        } else {
            Path parent = p.getParent() == null ? Path.of(".") : p.getParent();
            if (!Files.isDirectory(parent) || p.getFileName() == null) {
                throw new InvalidInputException(dirOrGlob + ": no such directory or file (tar: expects a directory of .tar/.tar.gz"
                        + " shards or a glob such as shards/train-*.tar)");
            }
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + p.getFileName());
            found = list(parent).stream().filter(f -> Files.isRegularFile(f) && m.matches(f.getFileName())).toList();
        }
        if (found.isEmpty()) {
            throw new InvalidInputException(dirOrGlob + ": no shards; expected .tar, .tar.gz or .tgz files");
        }
        return found.stream().sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new InvalidInputException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    /** The index under construction, one entry per sample. */
    private static final class Index {
        final List<Integer> shardOf = new ArrayList<>();
        final List<String> member = new ArrayList<>();
        final List<Long> position = new ArrayList<>();
        final List<Integer> length = new ArrayList<>();
        final List<Integer> labels = new ArrayList<>();
    }

    /** One key's members within a shard. */
    private static final class Pending {
        String image;
        long position;
        int length;
        String labelMember;
        Integer cls;
        String jsonMember;
        byte[] json;
    }

    /** The key of a member: its name up to the first dot after the last '/'; null for a name without a dot. */
    static String key(String name) {
        int slash = name.lastIndexOf('/');
        int dot = name.indexOf('.', slash + 1);
        return dot < 0 ? null : name.substring(0, dot);
    }

    private static void indexShard(Path shard, int s, boolean gz, Index index) {
        Map<String, Pending> keys = new LinkedHashMap<>();
        String last = null;
        try {
            if (gz) {
                try (TarArchiveInputStream in = new TarArchiveInputStream(new GzipCompressorInputStream(
                        new BufferedInputStream(Files.newInputStream(shard)), true))) {
                    long ordinal = 0;
                    for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry(), ordinal++) {
                        last = e.getName();
                        add(shard, e, ordinal, in, keys);
                    }
                }
            } else {
                long fileSize = Files.size(shard);
                try (TarFile tar = new TarFile(shard)) {
                    for (TarArchiveEntry e : tar.getEntries()) {
                        last = e.getName();
                        if (e.isFile() && e.getDataOffset() + e.getSize() > fileSize) {
                            throw new InvalidInputException(shard + "!" + e.getName() + ": truncated archive: the member's "
                                    + e.getSize() + " bytes end past the shard's " + fileSize + " bytes");
                        }
                        try (InputStream in = e.isFile() ? tar.getInputStream(e) : InputStream.nullInputStream()) {
                            add(shard, e, e.getDataOffset(), in, keys);
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidInputException iie) {
                throw iie;
            }
            if (last == null) {
                last = lastMember(shard, gz);
            }
            throw new InvalidInputException(shard + (last == null ? "" : "!" + last) + ": corrupt or truncated archive ("
                    + e.getMessage() + "); expected a complete " + (gz ? "gzip-compressed " : "") + "tar file", e);
        }
        for (Map.Entry<String, Pending> k : keys.entrySet()) {
            Pending p = k.getValue();
            if (p.image == null) {
                String m = p.labelMember != null ? p.labelMember : p.jsonMember;
                throw new InvalidInputException(shard + "!" + m + ": label without image; expected " + k.getKey()
                        + ".png, .jpg or .jpeg in the same shard");
            }
            int label;
            if (p.cls != null) {
                label = p.cls;
            } else if (p.json != null) {
                label = jsonLabel(shard + "!" + p.jsonMember, p.json);
            } else {
                throw new InvalidInputException(shard + "!" + p.image + ": image without label; expected " + k.getKey()
                        + ".cls (class index as text) or " + k.getKey() + ".json (with an integer field \"label\")");
            }
            index.shardOf.add(s);
            index.member.add(p.image);
            index.position.add(p.position);
            index.length.add(p.length);
            index.labels.add(label);
            if (index.labels.size() > Limits.MAX_ARRAY / 64) {
                throw new InvalidInputException(shard + ": more than " + Limits.MAX_ARRAY / 64 + " samples in all");
            }
        }
    }

    /** The name of the last member whose header reads before the archive fails (TarFile reads all headers at once). */
    private static String lastMember(Path shard, boolean gz) {
        String last = null;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(shard));
             TarArchiveInputStream in = new TarArchiveInputStream(gz ? new GzipCompressorInputStream(raw, true) : raw)) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                last = e.getName();
            }
        } catch (IOException | RuntimeException e) {
            return last;
        }
        return last;
    }

    private static void add(Path shard, TarArchiveEntry e, long position, InputStream in, Map<String, Pending> keys)
            throws IOException {
        if (!e.isFile()) {
            return;
        }
        String name = e.getName();
        String key = key(name);
        if (key == null) {
            return;
        }
        String ext = name.substring(key.length() + 1).toLowerCase(Locale.ROOT);
        boolean image = ext.equals("png") || ext.equals("jpg") || ext.equals("jpeg");
        boolean cls = ext.equals("cls");
        boolean json = ext.equals("json");
        if (!image && !cls && !json) {
            return;
        }
        String where = shard + "!" + name;
        Pending p = keys.computeIfAbsent(key, x -> new Pending());
        if (image) {
            if (p.image != null) {
                throw new InvalidInputException(where + ": a second image for key " + key + " (after " + p.image
                        + "); expected one image per key");
            }
            if (e.getSize() > Limits.MAX_ARRAY) {
                throw new InvalidInputException(where + ": image member of " + e.getSize() + " bytes; expected at most "
                        + Limits.MAX_ARRAY);
            }
            p.image = name;
            p.position = position;
            p.length = (int) e.getSize();
            return;
        }
        if (e.getSize() > MAX_LABEL_BYTES) {
            throw new InvalidInputException(where + ": label member of " + e.getSize() + " bytes; expected at most "
                    + MAX_LABEL_BYTES);
        }
        byte[] bytes = in.readNBytes((int) e.getSize());
        if (bytes.length != e.getSize()) {
            throw new InvalidInputException(where + ": truncated archive: " + bytes.length + " of the member's "
                    + e.getSize() + " bytes");
        }
        if (cls) {
            if (p.labelMember != null) {
                throw new InvalidInputException(where + ": a second .cls for key " + key + "; expected one label per key");
            }
            String text = new String(bytes, StandardCharsets.UTF_8).strip();
            long v;
            try {
                v = Long.parseLong(text);
            } catch (NumberFormatException x) {
                throw new InvalidInputException(where + ": expected a class index as text (e.g. 3), got '"
                        + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'");
            }
            p.cls = Limits.label(v, where + " label");
            p.labelMember = name;
        } else {
            if (p.jsonMember != null) {
                throw new InvalidInputException(where + ": a second .json for key " + key + "; expected one label per key");
            }
            p.jsonMember = name;
            p.json = bytes;
        }
    }

    private static int jsonLabel(String where, byte[] bytes) {
        JsonNode node;
        try {
            node = Json.COMPACT.readTree(bytes);
        } catch (IOException e) {
            throw new InvalidInputException(where + ": not valid JSON (" + e.getMessage()
                    + "); expected an object with an integer field \"label\"", e);
        }
        JsonNode label = node == null ? null : node.get("label");
        if (label == null || !label.isIntegralNumber()) {
            throw new InvalidInputException(where + ": expected a JSON object with an integer field \"label\", got "
                    + (label == null ? "no label field" : "label " + label));
        }
        return Limits.label(label.asLong(), where + " label");
    }








    /** The shard files, in sample order. */
    public List<Path> shards() {
        return shards;
    }

    @Override
    public Batch batch(long[] indices) {
        int per = sampleSize();
        int n = indices.length;
        checkBatch(n);
        // shard -> (position -> batch slots), in archive order
        Map<Integer, TreeMap<Long, List<Integer>>> byShard = new HashMap<>();
        for (int b = 0; b < n; b++) {
            int i = checkIndex(indices[b]);
            byShard.computeIfAbsent(shardOf[i], x -> new TreeMap<>())
                    .computeIfAbsent(position[i], x -> new ArrayList<>()).add(b);
        }
        byte[] pixels = new byte[n * per];
        for (Map.Entry<Integer, TreeMap<Long, List<Integer>>> e : byShard.entrySet()) {
            int s = e.getKey();
            if (gzip[s]) {
                readGzip(s, e.getValue(), indices, pixels, per);
            } else {
                readTar(s, e.getValue(), indices, pixels, per);
            }
        }
        return ImageDecoding.toBatch(pixels, imageShape(), labels, indices);
    }

    private void decode(byte[] encoded, String where, List<Integer> slots, byte[] pixels, int per) {
        int first = slots.get(0);
        ImageDecoding.decodeInto(ImageDecoding.of(encoded), where, size, channels, pixels, first * per);
        for (int k = 1; k < slots.size(); k++) {
            System.arraycopy(pixels, first * per, pixels, slots.get(k) * per, per);
        }
    }

    private void readTar(int s, TreeMap<Long, List<Integer>> wanted, long[] indices, byte[] pixels, int per) {
        Path shard = shards.get(s);
        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
            for (Map.Entry<Long, List<Integer>> w : wanted.entrySet()) {
                int i = (int) indices[w.getValue().get(0)];
                String where = shard + "!" + member[i];
                ByteBuffer buf = ByteBuffer.allocate(length[i]);
                long at = position[i];
                while (buf.hasRemaining()) {
                    if (ch.read(buf, at + buf.position()) < 0) {
                        throw new InvalidInputException(where + ": truncated archive (the shard changed since it was"
                                + " indexed?); expected " + length[i] + " bytes at offset " + at);
                    }
                }
                decode(buf.array(), where, w.getValue(), pixels, per);
            }
        } catch (IOException e) {
            throw new InvalidInputException(shard + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private void readGzip(int s, TreeMap<Long, List<Integer>> wanted, long[] indices, byte[] pixels, int per) {
        Path shard = shards.get(s);
        String last = null;
        try (TarArchiveInputStream in = new TarArchiveInputStream(new GzipCompressorInputStream(
                new BufferedInputStream(Files.newInputStream(shard)), true))) {
            long ordinal = 0;
            long lastWanted = wanted.lastKey();
            for (TarArchiveEntry e = in.getNextEntry(); e != null && ordinal <= lastWanted; e = in.getNextEntry(), ordinal++) {
                last = e.getName();
                List<Integer> slots = wanted.get(ordinal);
                if (slots == null) {
                    continue;
                }
                int i = (int) indices[slots.get(0)];
                String where = shard + "!" + e.getName();
                if (!e.getName().equals(member[i])) {
                    throw new InvalidInputException(where + ": expected member " + member[i] + " here (the shard changed"
                            + " since it was indexed?)");
                }
                byte[] encoded = in.readNBytes(length[i]);
                if (encoded.length != length[i]) {
                    throw new InvalidInputException(where + ": truncated archive: " + encoded.length + " of "
                            + length[i] + " bytes");
                }
                decode(encoded, where, slots, pixels, per);
            }
            if (ordinal <= lastWanted) {
                throw new InvalidInputException(shard + ": ends before member " + member[(int) indices[wanted.lastEntry()
                        .getValue().get(0)]] + " (the shard changed since it was indexed?)");
            }
        } catch (IOException e) {
            throw new InvalidInputException(shard + (last == null ? "" : "!" + last) + ": corrupt or truncated archive ("
                    + e.getMessage() + ")", e);
        }
    }
}
