package org.diffrep.sae;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.BuildInfo;
import org.diffrep.InvalidInputException;
import org.diffrep.extract.StoreLayout;
import org.diffrep.extract.StoreManifest;
import org.diffrep.extract.StoreSettings;
import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.diffrep.ops.Tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Writes SAE codes as a feature store that {@link org.diffrep.extract.FeatureStore} reads: one sigma (index 0)
 * and one layer, dense codes in {@code features/LAYER/sigma_0.npy} [N, L] and the sparse form in
 * {@code topk/LAYER/sigma_0.{indices,values}.npy} [N, k]; or, for token SAEs, several layers of dense rows
 * (the codes pooled over positions, {@code LAYER.max} and {@code LAYER.mean}) without a sparse form; plus the source store's
 * labels, split and dataset indices. The manifest says {@code complete: false} until every array has been written
 * to a temp file and renamed into place. Batches are appended in row order, so memory stays O(batch).
 */
final class CodeStoreWriter implements AutoCloseable {

    private final Path dir;
    private final StoreSettings settings;
    private final Map<String, Integer> layers;
    private final String topkLayer;
    private final long rows;
    private final Map<String, AtomicFiles.Pending> open = new LinkedHashMap<>();
    private long written;

    private CodeStoreWriter(Path dir, StoreSettings settings, Map<String, Integer> layers, String topkLayer, long rows) {
        this.dir = dir;
        this.settings = settings;
        this.layers = new LinkedHashMap<>(layers);
        this.topkLayer = topkLayer;
        this.rows = rows;
    }

    /** Starts a store in a new or empty directory; writes labels and split and an incomplete manifest. */
    static CodeStoreWriter create(Path dir, StoreSettings settings, String layer, int latents, int k,
                                  long[] labels, boolean[] train, long[] datasetIndices) throws IOException {
        return create(dir, settings, Map.of(layer, latents), layer, k, labels, train, datasetIndices);
    }

    /**
     * Starts a store of dense layers {@code layers} (name to width) and, when {@code topkLayer} is not null, the sparse
     * form of that layer's codes ({@code k} per row).
     */
    static CodeStoreWriter create(Path dir, StoreSettings settings, Map<String, Integer> layers, String topkLayer, int k,
                                  long[] labels, boolean[] train, long[] datasetIndices) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw InvalidInputException.field("out", dir + " is not empty; choose an empty or new directory");
                }
            }
        }
        Files.createDirectories(dir);
        CodeStoreWriter w = new CodeStoreWriter(dir, settings, layers, topkLayer, labels.length);
        w.writeManifest(Map.of(), List.of(), false);
        ByteBuffer lb = ByteBuffer.allocate(8 * labels.length).order(ByteOrder.LITTLE_ENDIAN);
        lb.asLongBuffer().put(labels);
        Npy.write(dir.resolve(StoreLayout.LABELS), Npy.DType.INT64, new long[]{labels.length}, lb);
        ByteBuffer ib = ByteBuffer.allocate(8 * datasetIndices.length).order(ByteOrder.LITTLE_ENDIAN);
        ib.asLongBuffer().put(datasetIndices);
        Npy.write(dir.resolve(StoreLayout.INDICES), Npy.DType.INT64, new long[]{datasetIndices.length}, ib);
        ByteBuffer sb = ByteBuffer.allocate(train.length).order(ByteOrder.LITTLE_ENDIAN);
        for (boolean t : train) {
            sb.put((byte) (t ? 1 : 0));
        }
        Npy.write(dir.resolve(StoreLayout.SPLIT), Npy.DType.UINT8, new long[]{train.length}, sb.flip());
        for (Map.Entry<String, Integer> e : layers.entrySet()) {
            w.begin(StoreLayout.features(e.getKey(), 0), Npy.DType.FLOAT32, e.getValue());
        }
        if (topkLayer != null) {
            w.begin(StoreLayout.topkIndices(topkLayer, 0), Npy.DType.INT64, k);
            w.begin(StoreLayout.topkValues(topkLayer, 0), Npy.DType.FLOAT32, k);
        }
        return w;
    }

    /** Appends the codes of the next rows: dense [n, L], values [n, k], indices [n, k]. */
    void append(TopKSae.Codes codes) throws IOException {
        long n = codes.dense().size(0);
        if (written + n > rows) {
            throw new IllegalStateException("more than " + rows + " rows appended");
        }
        write(StoreLayout.features(topkLayer, 0), floats(codes.dense()));
        write(StoreLayout.topkIndices(topkLayer, 0), longs(codes.indices()));
        write(StoreLayout.topkValues(topkLayer, 0), floats(codes.values()));
        written += n;
    }

    /** Appends the next rows of every dense layer (name to [n, width]), for a store without a sparse form. */
    void append(Map<String, Tensor> dense) throws IOException {
        long n = -1;
        for (String layer : layers.keySet()) {
            Tensor t = dense.get(layer);
            if (n >= 0 && t.size(0) != n) {
                throw new IllegalStateException("layers with different row counts appended");
            }
            n = t.size(0);
            write(StoreLayout.features(layer, 0), floats(t));
        }
        if (written + n > rows) {
            throw new IllegalStateException("more than " + rows + " rows appended");
        }
        written += n;
    }

    /** Renames every array into place and writes the manifest with {@code complete: true}. */
    void finish() throws IOException {
        if (written != rows) {
            throw new IllegalStateException(written + " of " + rows + " rows written");
        }
        TreeSet<String> files = new TreeSet<>(List.of(StoreLayout.LABELS, StoreLayout.SPLIT, StoreLayout.INDICES));
        for (Map.Entry<String, AtomicFiles.Pending> e : open.entrySet()) {
            e.getValue().sync();
            e.getValue().commit();
            files.add(e.getKey());
        }
        open.clear();
        Map<String, StoreManifest.LayerShape> shapes = new LinkedHashMap<>();
        layers.forEach((l, width) -> shapes.put(l, new StoreManifest.LayerShape(List.of((long) width, 1L, 1L), width)));
        writeManifest(shapes, new ArrayList<>(files), true);
    }

    @Override
    public void close() throws IOException {
        for (AtomicFiles.Pending p : open.values()) {
            p.close();
        }
        open.clear();
    }

    private void begin(String rel, Npy.DType dtype, long width) throws IOException {
        AtomicFiles.Pending p = AtomicFiles.begin(dir.resolve(rel));
        open.put(rel, p);
        AtomicFiles.writeFully(p.channel(), ByteBuffer.wrap(Npy.header(dtype, rows, width)));
    }

    private void write(String rel, ByteBuffer b) throws IOException {
        AtomicFiles.writeFully(open.get(rel).channel(), b);
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

    private void writeManifest(Map<String, StoreManifest.LayerShape> layers, List<String> files, boolean complete)
            throws IOException {
        Map<String, String> versions = BuildInfo.versions();
        StoreManifest m = new StoreManifest(StoreManifest.FORMAT, settings, layers, files, versions, complete);
        byte[] json = (Json.SNAKE_CASE.writeValueAsString(m) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        AtomicFiles.writeSynced(dir.resolve(StoreLayout.MANIFEST), ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(json)));
    }
}
