package org.diffrep.extract;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;
import org.diffrep.io.Npy;
import org.diffrep.ops.Tensors;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a feature store written by {@link Extractor}: the manifest, labels, split mask and the
 * feature arrays, each memory-mapped ({@link java.nio.channels.FileChannel#map}) on first use, in chunks of whole
 * rows of at most {@link Npy#CHUNK_BYTES} (so files beyond 2 GiB are read).
 * Incomplete stores are refused unless {@link #open(Path, boolean)} is asked to accept them; partial stores
 * (one partition of a run) are refused until merged ({@link StoreMerge}).
 */
public final class FeatureStore {

    private final Path dir;
    private final StoreManifest manifest;
    private final Map<String, Npy.Mapped> mapped = new ConcurrentHashMap<>();
    /** Rows of at most this many bytes per mapped chunk ({@link Npy#CHUNK_BYTES}; tests force tiny chunks). */
    private final long chunkBytes;

    private FeatureStore(Path dir, StoreManifest manifest, long chunkBytes) {
        this.dir = dir;
        this.manifest = manifest;
        this.chunkBytes = chunkBytes;
    }

    /** Opens a complete store. */
    public static FeatureStore open(Path dir) {
        return open(dir, false);
    }

    /**
     * Opens a store; an incomplete one only when {@code allowIncomplete} (its arrays may be missing). A partial
     * store (one partition of a run, {@code settings.partition} in its manifest) is refused, naming the partition:
     * analyses need the whole run, so its parts are merged first ({@link StoreMerge}).
     */
    public static FeatureStore open(Path dir, boolean allowIncomplete) {
        return open(dir, allowIncomplete, false);
    }

    /** Opens and checks a complete partial store, for {@link StoreMerge}. */
    static FeatureStore openPart(Path dir) {
        return open(dir, false, true);
    }

    /** Opens a complete store whose files are mapped in chunks of at most {@code chunkBytes} (for tests). */
    static FeatureStore open(Path dir, long chunkBytes) {
        return open(dir, false, false, chunkBytes);
    }

    private static FeatureStore open(Path dir, boolean allowIncomplete, boolean allowPartial) {
        return open(dir, allowIncomplete, allowPartial, Npy.CHUNK_BYTES);
    }

    private static FeatureStore open(Path dir, boolean allowIncomplete, boolean allowPartial, long chunkBytes) {
        Path file = dir.resolve(StoreLayout.MANIFEST);
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(dir + ": not a feature store (no " + StoreLayout.MANIFEST + ")");
        }
        StoreManifest m;
        try {
            m = StoreWriter.readManifest(file);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e);
        }
        if (!StoreManifest.FORMAT.equals(m.format())) {
            throw new InvalidInputException(file + ": format '" + m.format() + "', expected " + StoreManifest.FORMAT);
        }
        if (!m.complete() && !allowIncomplete) {
            throw new InvalidInputException(dir + ": the feature store is incomplete (complete: false in "
                    + StoreLayout.MANIFEST + "); finish it with diffrep extract --resume");
        }
        StoreSettings.PartitionRange part = m.settings() == null ? null : m.settings().partition();
        if (part != null && !allowPartial) {
            throw new InvalidInputException(dir + ": a partial store (partition " + part.index() + "/" + part.count()
                    + ", images " + part.first() + ".." + (part.first() + m.settings().count() - 1) + " of "
                    + part.total() + "); merge the " + part.count() + " parts first with diffrep store merge");
        }
        FeatureStore store = new FeatureStore(dir, m, chunkBytes);
        if (m.complete()) {
            store.validate();
        }
        return store;
    }

    /**
     * Checks a complete store before anything reads it: the manifest's fields, and for every array it lists the
     * header (dtype, shape, file size) against the count of rows, then the labels (0 <= label < 65536), the split
     * (0 or 1) and the dataset indices (>= 0). Feature values are checked for NaN and Inf when a file is first
     * mapped. Every message names the file.
     */
    private void validate() {
        Path mf = dir.resolve(StoreLayout.MANIFEST);
        StoreSettings st = manifest.settings();
        if (st == null || manifest.files() == null || manifest.layers() == null) {
            throw new InvalidInputException(mf + ": field " + (st == null ? "settings" : manifest.files() == null
                    ? "files" : "layers") + " is missing; expected a diffrep feature store manifest");
        }
        if (st.count() < 0 || st.count() > Limits.MAX_ARRAY) {
            throw new InvalidInputException(mf + ": field settings.count is " + st.count() + "; expected 0.."
                    + Limits.MAX_ARRAY);
        }
        if (st.layers() == null || st.layers().isEmpty() || st.sigmas() == null || st.sigmas().isEmpty()) {
            throw new InvalidInputException(mf + ": field settings." + (st.layers() == null || st.layers().isEmpty()
                    ? "layers" : "sigmas") + " is empty; expected at least one");
        }
        for (int i = 0; i < st.sigmas().size(); i++) {
            Float v = st.sigmas().get(i);
            if (v == null || !Float.isFinite(v) || v < 0) {
                throw new InvalidInputException(mf + ": field settings.sigmas[" + i + "] is " + v
                        + "; expected a finite noise level >= 0");
            }
        }
        for (String layer : st.layers()) {
            StoreManifest.LayerShape shape = manifest.layers().get(layer);
            if (shape == null || shape.rowLength() < 1 || shape.mapShape() == null || shape.mapShape().isEmpty()
                    || shape.mapShape().get(0) == null || shape.mapShape().get(0) < 1) {
                throw new InvalidInputException(mf + ": field layers." + layer + " is " + (shape == null ? "missing"
                        : "map_shape " + shape.mapShape() + ", row_length " + shape.rowLength())
                        + "; expected the layer's map shape [C, H, W] and a row length >= 1");
            }
        }
        java.util.Set<String> listed = new java.util.HashSet<>();
        for (String rel : manifest.files()) {
            Path norm = rel == null ? null : Path.of(rel).normalize();
            if (norm == null || norm.isAbsolute() || norm.startsWith("..") || norm.toString().isEmpty()) {
                throw new InvalidInputException(mf + ": field files lists '" + rel
                        + "'; expected paths inside the store directory");
            }
            listed.add(rel);
        }
        List<String> required = new ArrayList<>(List.of(StoreLayout.LABELS, StoreLayout.SPLIT));
        for (String layer : st.layers()) {
            for (int i = 0; i < st.sigmas().size(); i++) {
                required.add(StoreLayout.features(layer, i));
            }
        }
        for (String rel : required) {
            if (!listed.contains(rel)) {
                throw new InvalidInputException(mf + ": field files lacks " + rel + "; expected every array of the "
                        + st.layers().size() + " layer(s) x " + st.sigmas().size() + " sigma(s), labels and split");
            }
        }
        long n = st.count();
        String countNote = " (settings.count in " + StoreLayout.MANIFEST + " is " + n + ")";
        for (String rel : manifest.files()) {
            Path file = dir.resolve(rel);
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": missing from the feature store (listed in " + mf + ")");
            }
            Npy.Header h;
            try {
                h = Npy.readStrictHeader(file);
            } catch (IOException e) {
                throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
            }
            long[] shape = h.shape();
            if (shape.length < 1 || shape[0] != n) {
                throw new InvalidInputException(file + ": field shape is " + Arrays.toString(shape) + "; expected " + n
                        + " rows" + countNote);
            }
            Expect e = expect(rel);
            if (e == null) {
                continue;
            }
            if (h.dtype() != e.dtype) {
                throw new InvalidInputException(file + ": field descr is '" + h.dtype().descr() + "'; expected '"
                        + e.dtype.descr() + "'");
            }
            long width = e.width;
            boolean shapeOk = width < 0 ? shape.length == 1 : shape.length == 2 && (width == 0 || shape[1] == width);
            if (!shapeOk) {
                throw new InvalidInputException(file + ": field shape is " + Arrays.toString(shape) + "; expected ["
                        + n + (width < 0 ? "]" : width == 0 ? ", K]" : ", " + width + "]") + countNote);
            }
        }
        checkValues(StoreLayout.LABELS, 0, Limits.MAX_CLASSES - 1, "label", "a class index");
        checkValues(StoreLayout.SPLIT, 0, 1, "split", "1 (train) or 0 (test)");
        if (listed.contains(StoreLayout.INDICES)) {
            checkValues(StoreLayout.INDICES, 0, Integer.MAX_VALUE, "dataset index", "a dataset index");
        }
    }

    private record Expect(Npy.DType dtype, long width) {
    }

    /** What a store file must hold: dtype and row width (-1: a vector [N]; 0: any width). */
    private Expect expect(String rel) {
        if (rel.equals(StoreLayout.LABELS) || rel.equals(StoreLayout.INDICES)) {
            return new Expect(Npy.DType.INT64, -1);
        }
        if (rel.equals(StoreLayout.SPLIT)) {
            return new Expect(Npy.DType.UINT8, -1);
        }
        String[] parts = rel.split("/");
        if (parts.length < 3) {
            return null;
        }
        String layer = String.join("/", Arrays.copyOfRange(parts, 1, parts.length - 1));
        String name = parts[parts.length - 1];
        StoreManifest.LayerShape shape = manifest.layers().get(layer);
        if (parts[0].equals("features") && name.matches("sigma_\\d+\\.npy") && shape != null) {
            return new Expect(Npy.DType.FLOAT32, shape.rowLength());
        }
        if (parts[0].equals("features") && name.matches("sigma_\\d+\\.max\\.npy")) {
            return new Expect(Npy.DType.FLOAT32, 0);
        }
        if (parts[0].equals("topk") && name.matches("sigma_\\d+\\.values\\.npy")) {
            return new Expect(Npy.DType.FLOAT32, 0);
        }
        if (parts[0].equals("topk") && name.matches("sigma_\\d+\\.indices\\.npy")) {
            return new Expect(Npy.DType.INT64, 0);
        }
        return null;
    }

    /** Checks that every element of a vector file lies in [min, max]; the message names the file and row. */
    private void checkValues(String rel, long min, long max, String what, String expected) {
        Npy.Mapped m = map(rel);
        boolean bytes = m.header().dtype() == Npy.DType.UINT8;
        long n = m.header().count();
        for (long i = 0; i < n; i++) {
            long v = bytes ? m.getUnsignedByte(i) : m.getLong(i);
            if (v < min || v > max) {
                throw new InvalidInputException(dir.resolve(rel) + ": row " + i + ": " + what + " = " + v + "; expected "
                        + expected + " in " + min + ".." + max);
            }
        }
    }

    public Path dir() {
        return dir;
    }

    public StoreManifest manifest() {
        return manifest;
    }

    public StoreSettings settings() {
        return manifest.settings();
    }

    /** Number of images N. */
    public int count() {
        return Math.toIntExact(manifest.settings().count());
    }

    public List<String> layers() {
        return manifest.settings().layers();
    }

    public float[] sigmas() {
        List<Float> s = manifest.settings().sigmas();
        float[] out = new float[s.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.get(i);
        }
        return out;
    }

    /** Length of one stored feature row of a layer (C, or C*H*W with pooling none). */
    public long rowLength(String layer) {
        return layerShape(layer).rowLength();
    }

    /** The tap's feature map shape [C, H, W] (without the batch). */
    public long[] mapShape(String layer) {
        return layerShape(layer).mapShape().stream().mapToLong(Long::longValue).toArray();
    }

    /** Labels [N]. */
    public long[] labels() {
        return map(StoreLayout.LABELS).toLongs();
    }

    /** Split mask [N]: true for train, false for test. */
    public boolean[] trainMask() {
        Npy.Mapped m = map(StoreLayout.SPLIT);
        boolean[] out = new boolean[Math.toIntExact(m.header().count())];
        for (int i = 0; i < out.length; i++) {
            out[i] = m.getUnsignedByte(i) != 0;
        }
        return out;
    }

    /** Features of one layer at sigma index i, [N][row length] (spatial means, or flattened maps). */
    public float[][] features(String layer, int sigmaIndex) {
        return rows(StoreLayout.features(checkLayer(layer), checkSigma(sigmaIndex)));
    }

    /** Spatial maxima [N][C] (stores made with pooling mean+max). */
    public float[][] featuresMax(String layer, int sigmaIndex) {
        requirePool(checkLayer(layer), "mean+max");
        return rows(StoreLayout.featuresMax(layer, checkSigma(sigmaIndex)));
    }

    /** Top-k channel indices [N][k] of the spatial means, by descending value. */
    public long[][] topkIndices(String layer, int sigmaIndex) {
        requireTopk();
        Npy.Mapped m = map(StoreLayout.topkIndices(checkLayer(layer), checkSigma(sigmaIndex)));
        int n = (int) m.header().shape()[0], k = (int) m.header().shape()[1];
        long[][] out = new long[n][k];
        for (int i = 0; i < n; i++) {
            m.getLongs(i, out[i]);
        }
        return out;
    }

    /** Top-k values [N][k] of the spatial means, descending. */
    public float[][] topkValues(String layer, int sigmaIndex) {
        requireTopk();
        return rows(StoreLayout.topkValues(checkLayer(layer), checkSigma(sigmaIndex)));
    }

    /**
     * Features as a CPU float32 tensor [N, row length]. A file mapped as one chunk (up to {@link Npy#CHUNK_BYTES},
     * 1 GiB) gives a view over the mapped file, no copy: the tensor is read-only (writing to it crashes) and valid
     * while this store object is reachable; call {@code clone()} for a tensor of your own. A larger file is
     * mapped in several chunks and the tensor is a copy of all of them, N x row length x 4 bytes of memory; to
     * stay within memory, read row ranges with {@link #featuresTensor(String, int, long, long)}.
     */
    public Tensor featuresTensor(String layer, int sigmaIndex) {
        Npy.Mapped m = map(StoreLayout.features(checkLayer(layer), checkSigma(sigmaIndex)));
        return rowsTensor(m, 0, m.rows());
    }

    /**
     * Rows {@code fromRow .. fromRow + rows - 1} of the features as a CPU float32 tensor [rows, row length]:
     * a read-only view over the mapped file (as {@link #featuresTensor(String, int)}) when the rows lie in one
     * mapped chunk of whole rows (1 GiB), else a copy of them.
     */
    public Tensor featuresTensor(String layer, int sigmaIndex, long fromRow, long rows) {
        String rel = StoreLayout.features(checkLayer(layer), checkSigma(sigmaIndex));
        Npy.Mapped m = map(rel);
        if (fromRow < 0 || rows < 0 || fromRow > m.rows() - rows) {
            throw new InvalidInputException(dir.resolve(rel) + ": rows " + fromRow + ".." + (fromRow + rows - 1)
                    + " out of range; the file has " + m.rows() + " rows");
        }
        return rowsTensor(m, fromRow, rows);
    }

    private static Tensor rowsTensor(Npy.Mapped m, long fromRow, long rows) {
        long[] shape = m.header().shape().clone();
        shape[0] = rows;
        int c = rows == 0 ? 0 : m.chunkOf(fromRow);
        if (rows == 0 || m.chunkOf(fromRow + rows - 1) == c) {
            long start = rows == 0 ? 0 : (fromRow - m.firstRow(c)) * m.rowBytes();
            java.nio.ByteBuffer view = m.chunk(c).slice(Math.toIntExact(start), Math.toIntExact(rows * m.rowBytes()));
            BytePointer p = new BytePointer(view);
            // The tensor does not reference the Java mapping; without the pin, a caller that keeps only the
            // tensor lets GC unmap the file under it (a SIGSEGV seen in bench-sae). LibTorch's deleter unpins.
            MappingPins.pin(p.address(), m);
            return torch.from_blob(p, shape, MappingPins.UNPIN, Tensors.options(ScalarType.Float),
                    new DeviceOptional());
        }
        Tensor out = torch.empty(shape, Tensors.options(ScalarType.Float), null);
        BytePointer dst = new BytePointer(out.data_ptr());
        long done = 0;
        while (done < rows) {
            long row = fromRow + done;
            int k = m.chunkOf(row);
            long take = Math.min(rows - done, m.firstRow(k) + m.chunkRows(k) - row);
            long bytes = take * m.rowBytes();
            java.nio.ByteBuffer src = m.chunk(k).slice(Math.toIntExact((row - m.firstRow(k)) * m.rowBytes()),
                    Math.toIntExact(bytes));
            org.bytedeco.javacpp.Pointer.memcpy(dst.position(done * m.rowBytes()), new BytePointer(src), bytes);
            done += take;
        }
        return out;
    }

    /** The mapped array of any store file (path relative to the store, as in the manifest's files). */
    public Npy.Mapped map(String rel) {
        return mapped.computeIfAbsent(rel, r -> {
            Path file = dir.resolve(r);
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": missing from the feature store");
            }
            Npy.Mapped m;
            try {
                m = Npy.map(file, chunkBytes);
            } catch (IOException e) {
                throw new InvalidInputException(file + ": cannot read: " + e);
            }
            if (m.header().dtype() == Npy.DType.FLOAT32) {
                checkFinite(file, m);
            }
            if (r.startsWith("topk/") && r.endsWith(".indices.npy") && m.header().dtype() == Npy.DType.INT64) {
                checkChannels(file, r, m);
            }
            return m;
        });
    }

    /**
     * NaN or Inf anywhere in a float array: an error naming the file, row and column (checked once per file,
     * chunk by chunk).
     */
    private static void checkFinite(Path file, Npy.Mapped m) {
        long width = m.rowBytes() / 4;
        for (int c = 0; c < m.chunkCount(); c++) {
            FloatBuffer b = m.chunk(c).asFloatBuffer();
            long first = m.firstRow(c) * width;
            int n = b.remaining();
            for (int i = 0; i < n; i++) {
                float v = b.get(i);
                if (!Float.isFinite(v)) {
                    long at = first + i;
                    throw new InvalidInputException(file + ": row " + (at / width) + ", column " + (at % width) + " is "
                            + v + "; expected finite features (the store is corrupt or was edited: extract it again)");
                }
            }
        }
    }

    /** Top-k channel indices must name channels of the layer: 0 <= index < C (checked chunk by chunk). */
    private void checkChannels(Path file, String rel, Npy.Mapped m) {
        String layer = rel.substring("topk/".length(), rel.lastIndexOf('/'));
        StoreManifest.LayerShape shape = manifest.layers() == null ? null : manifest.layers().get(layer);
        if (shape == null || shape.mapShape() == null || shape.mapShape().isEmpty()) {
            return;
        }
        long channels = shape.mapShape().get(0);
        long[] dims = m.header().shape();
        long width = dims.length < 2 || dims[1] == 0 ? 1 : dims[1];
        for (int c = 0; c < m.chunkCount(); c++) {
            LongBuffer b = m.chunk(c).asLongBuffer();
            long first = m.firstRow(c) * width;
            for (int i = 0; i < b.remaining(); i++) {
                long v = b.get(i);
                if (v < 0 || v >= channels) {
                    long at = first + i;
                    throw new InvalidInputException(file + ": row " + (at / width) + ", column " + (at % width)
                            + ": channel index is " + v + "; expected 0.." + (channels - 1) + " (layer " + layer
                            + " has " + channels + " channels)");
                }
            }
        }
    }

    private float[][] rows(String rel) {
        Npy.Mapped m = map(rel);
        long[] shape = m.header().shape();
        if (shape.length != 2) {
            throw new InvalidInputException(dir.resolve(rel) + ": shape " + Arrays.toString(shape) + ", expected [N, C]");
        }
        float[][] out = new float[Math.toIntExact(shape[0])][Math.toIntExact(shape[1])];
        for (int i = 0; i < out.length; i++) {
            m.getFloats(i, out[i]);
        }
        return out;
    }

    private StoreManifest.LayerShape layerShape(String layer) {
        StoreManifest.LayerShape s = manifest.layers().get(checkLayer(layer));
        if (s == null) {
            throw new InvalidInputException(dir + ": no shape recorded for layer " + layer + " (incomplete store)");
        }
        return s;
    }

    private String checkLayer(String layer) {
        if (!layers().contains(layer)) {
            throw new InvalidInputException(dir + ": no layer '" + layer + "'; the store has " + layers());
        }
        return layer;
    }

    private int checkSigma(int i) {
        int s = manifest.settings().sigmas().size();
        if (i < 0 || i >= s) {
            throw new InvalidInputException(dir + ": sigma index " + i + " out of range [0, " + s + ")");
        }
        return i;
    }

    private void requirePool(String layer, String pool) {
        String made = manifest.settings().reductionOf(layer);
        if (!made.equals(pool)) {
            throw new InvalidInputException(dir + ": layer " + layer + " was made with "
                    + (made.equals(manifest.settings().pool()) ? "pool " : "reduction ") + made + ", not " + pool);
        }
    }

    private void requireTopk() {
        if (manifest.settings().topk() <= 0) {
            throw new InvalidInputException(dir + ": made without top-k features (topk 0)");
        }
    }

    /** Every array file the manifest lists. */
    public List<String> files() {
        return new ArrayList<>(manifest.files());
    }
}
