package org.diffrep.sae;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.BuildInfo;
import org.diffrep.InvalidInputException;
import org.diffrep.extract.NpyArrays;
import org.diffrep.extract.StoreLayout;
import org.diffrep.extract.StoreManifest;
import org.diffrep.extract.StoreSettings;
import org.diffrep.ops.Tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Writes SAE codes as a feature store that {@link org.diffrep.extract.FeatureStore} reads: one
 * layer, one sigma (index 0), dense codes in {@code features/LAYER/sigma_0.npy} [N, L] and the
 * sparse form in {@code topk/LAYER/sigma_0.{indices,values}.npy} [N, k], plus the source store's
 * labels, split and dataset indices. The manifest says {@code complete: false} until every array has been written
 * to a temp file and renamed into place. Batches are appended in row order, so memory stays O(batch).
 */
final class CodeStoreWriter implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final StoreSettings settings;
    private final String layer;
    private final long rows;
    private final int latents;
    private final Map<String, FileChannel> open = new LinkedHashMap<>();
    private long written;

    private CodeStoreWriter(Path dir, StoreSettings settings, String layer, long rows, int latents) {
        this.dir = dir;
        this.settings = settings;
        this.layer = layer;
        this.rows = rows;
        this.latents = latents;
    }

    /** Starts a store in a new or empty directory; writes labels and split and an incomplete manifest. */
    static CodeStoreWriter create(Path dir, StoreSettings settings, String layer, int latents, int k,
                                  long[] labels, boolean[] train, long[] datasetIndices) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw InvalidInputException.field("out", dir + " is not empty; choose an empty or new directory");
                }
            }
        }
        Files.createDirectories(dir);
        CodeStoreWriter w = new CodeStoreWriter(dir, settings, layer, labels.length, latents);
        w.writeManifest(Map.of(), List.of(), false);
        ByteBuffer lb = ByteBuffer.allocate(8 * labels.length).order(ByteOrder.LITTLE_ENDIAN);
        lb.asLongBuffer().put(labels);
        NpyArrays.write(dir.resolve(StoreLayout.LABELS), NpyArrays.DType.INT64, new long[]{labels.length}, lb);
        ByteBuffer ib = ByteBuffer.allocate(8 * datasetIndices.length).order(ByteOrder.LITTLE_ENDIAN);
        ib.asLongBuffer().put(datasetIndices);
        NpyArrays.write(dir.resolve(StoreLayout.INDICES), NpyArrays.DType.INT64, new long[]{datasetIndices.length}, ib);
        ByteBuffer sb = ByteBuffer.allocate(train.length).order(ByteOrder.LITTLE_ENDIAN);
        for (boolean t : train) {
            sb.put((byte) (t ? 1 : 0));
        }
        NpyArrays.write(dir.resolve(StoreLayout.SPLIT), NpyArrays.DType.UINT8, new long[]{train.length}, sb.flip());
        w.begin(StoreLayout.features(layer, 0), NpyArrays.DType.FLOAT32, latents);
        w.begin(StoreLayout.topkIndices(layer, 0), NpyArrays.DType.INT64, k);
        w.begin(StoreLayout.topkValues(layer, 0), NpyArrays.DType.FLOAT32, k);
        return w;
    }

    /** Appends the codes of the next rows: dense [n, L], values [n, k], indices [n, k]. */
    void append(TopKSae.Codes codes) throws IOException {
        long n = codes.dense().size(0);
        if (written + n > rows) {
            throw new IllegalStateException("more than " + rows + " rows appended");
        }
        write(StoreLayout.features(layer, 0), floats(codes.dense()));
        write(StoreLayout.topkIndices(layer, 0), longs(codes.indices()));
        write(StoreLayout.topkValues(layer, 0), floats(codes.values()));
        written += n;
    }

    /** Renames every array into place and writes the manifest with {@code complete: true}. */
    void finish() throws IOException {
        if (written != rows) {
            throw new IllegalStateException(written + " of " + rows + " rows written");
        }
        TreeSet<String> files = new TreeSet<>(List.of(StoreLayout.LABELS, StoreLayout.SPLIT, StoreLayout.INDICES));
        for (Map.Entry<String, FileChannel> e : open.entrySet()) {
            e.getValue().force(false);
            e.getValue().close();
            Path target = dir.resolve(e.getKey());
            Files.move(tmp(target), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            files.add(e.getKey());
        }
        open.clear();
        writeManifest(Map.of(layer, new StoreManifest.LayerShape(List.of((long) latents, 1L, 1L), latents)),
                new ArrayList<>(files), true);
    }

    @Override
    public void close() throws IOException {
        for (FileChannel ch : open.values()) {
            ch.close();
        }
        open.clear();
    }

    private void begin(String rel, NpyArrays.DType dtype, long width) throws IOException {
        Path target = dir.resolve(rel);
        Files.createDirectories(target.getParent());
        FileChannel ch = FileChannel.open(tmp(target), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        writeFully(ch, ByteBuffer.wrap(NpyArrays.header(dtype, rows, width)));
        open.put(rel, ch);
    }

    private void write(String rel, ByteBuffer b) throws IOException {
        writeFully(open.get(rel), b);
    }

    private static ByteBuffer floats(Tensor t) {
        float[] v = Tensors.toFloats(t.detach());
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b;
    }

    private static ByteBuffer longs(Tensor t) {
        long[] v = Tensors.toLongs(t);
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        return b;
    }

    private static Path tmp(Path target) {
        return target.resolveSibling(target.getFileName() + ".tmp");
    }

    private void writeManifest(Map<String, StoreManifest.LayerShape> layers, List<String> files, boolean complete)
            throws IOException {
        Map<String, String> versions = BuildInfo.versions();
        StoreManifest m = new StoreManifest(StoreManifest.FORMAT, settings, layers, files, versions, complete);
        Path file = dir.resolve(StoreLayout.MANIFEST);
        Path t = tmp(file);
        Files.write(t, (JSON.writeValueAsString(m) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.move(t, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
