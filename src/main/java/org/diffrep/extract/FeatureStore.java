package org.diffrep.extract;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.diffrep.InvalidInputException;
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
 * feature arrays, each memory-mapped ({@link java.nio.channels.FileChannel#map}) on first use.
 * Incomplete stores are refused unless {@link #open(Path, boolean)} is asked to accept them.
 */
public final class FeatureStore {

    private final Path dir;
    private final StoreManifest manifest;
    private final Map<String, NpyArrays.Mapped> mapped = new ConcurrentHashMap<>();

    private FeatureStore(Path dir, StoreManifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    /** Opens a complete store. */
    public static FeatureStore open(Path dir) {
        return open(dir, false);
    }

    /** Opens a store; an incomplete one only when {@code allowIncomplete} (its arrays may be missing). */
    public static FeatureStore open(Path dir, boolean allowIncomplete) {
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
        return new FeatureStore(dir, m);
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
        LongBuffer b = map(StoreLayout.LABELS).data().asLongBuffer();
        long[] out = new long[b.remaining()];
        b.get(out);
        return out;
    }

    /** Split mask [N]: true for train, false for test. */
    public boolean[] trainMask() {
        var b = map(StoreLayout.SPLIT).data().duplicate();
        boolean[] out = new boolean[b.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.get(i) != 0;
        }
        return out;
    }

    /** Features of one layer at sigma index i, [N][row length] (spatial means, or flattened maps). */
    public float[][] features(String layer, int sigmaIndex) {
        return rows(StoreLayout.features(checkLayer(layer), checkSigma(sigmaIndex)));
    }

    /** Spatial maxima [N][C] (stores made with pooling mean+max). */
    public float[][] featuresMax(String layer, int sigmaIndex) {
        requirePool("mean+max");
        return rows(StoreLayout.featuresMax(checkLayer(layer), checkSigma(sigmaIndex)));
    }

    /** Top-k channel indices [N][k] of the spatial means, by descending value. */
    public long[][] topkIndices(String layer, int sigmaIndex) {
        requireTopk();
        NpyArrays.Mapped m = map(StoreLayout.topkIndices(checkLayer(layer), checkSigma(sigmaIndex)));
        LongBuffer b = m.data().asLongBuffer();
        int n = (int) m.header().shape()[0], k = (int) m.header().shape()[1];
        long[][] out = new long[n][k];
        for (int i = 0; i < n; i++) {
            b.get(out[i]);
        }
        return out;
    }

    /** Top-k values [N][k] of the spatial means, descending. */
    public float[][] topkValues(String layer, int sigmaIndex) {
        requireTopk();
        return rows(StoreLayout.topkValues(checkLayer(layer), checkSigma(sigmaIndex)));
    }

    /**
     * Features as a CPU float32 tensor [N, row length] over the mapped file, no copy. The tensor
     * is read-only (writing to it crashes) and valid while this store object is reachable; call
     * {@code clone()} for a tensor of your own.
     */
    public Tensor featuresTensor(String layer, int sigmaIndex) {
        NpyArrays.Mapped m = map(StoreLayout.features(checkLayer(layer), checkSigma(sigmaIndex)));
        BytePointer p = new BytePointer(m.data());
        // The tensor does not reference the Java mapping; without the pin, a caller that keeps only the
        // tensor lets GC unmap the file under it (a SIGSEGV seen in bench-sae). LibTorch's deleter unpins.
        MappingPins.pin(p.address(), m);
        return torch.from_blob(p, m.header().shape(), MappingPins.UNPIN, Tensors.options(ScalarType.Float),
                new DeviceOptional());
    }

    /** The mapped array of any store file (path relative to the store, as in the manifest's files). */
    public NpyArrays.Mapped map(String rel) {
        return mapped.computeIfAbsent(rel, r -> {
            Path file = dir.resolve(r);
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": missing from the feature store");
            }
            try {
                return NpyArrays.map(file);
            } catch (IOException e) {
                throw new InvalidInputException(file + ": cannot read: " + e);
            }
        });
    }

    private float[][] rows(String rel) {
        NpyArrays.Mapped m = map(rel);
        long[] shape = m.header().shape();
        if (shape.length != 2) {
            throw new InvalidInputException(dir.resolve(rel) + ": shape " + Arrays.toString(shape) + ", expected [N, C]");
        }
        FloatBuffer b = m.data().asFloatBuffer();
        float[][] out = new float[Math.toIntExact(shape[0])][Math.toIntExact(shape[1])];
        for (float[] row : out) {
            b.get(row);
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

    private void requirePool(String pool) {
        if (!manifest.settings().pool().equals(pool)) {
            throw new InvalidInputException(dir + ": made with --pool " + manifest.settings().pool() + ", not " + pool);
        }
    }

    private void requireTopk() {
        if (manifest.settings().topk() <= 0) {
            throw new InvalidInputException(dir + ": made without --topk");
        }
    }

    /** Every array file the manifest lists. */
    public List<String> files() {
        return new ArrayList<>(manifest.files());
    }
}
