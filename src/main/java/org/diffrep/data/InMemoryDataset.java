package org.diffrep.data;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;
import org.diffrep.ops.Tensors;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A dataset held in one array: uint8 pixels (converted to [-1, 1] per batch, so the resident copy stays at one
 * byte per value) or float values (returned as stored). Immutable and therefore safe to batch from several threads.
 */
public final class InMemoryDataset extends LabelledDataset {

    private final byte[] pixels;
    private final float[] values;
    private final Split archiveSplit;

    private InMemoryDataset(String source, int[] shape, byte[] pixels, float[] values, int[] labels,
                            List<String> classNames, Split archiveSplit) {
        super(source, shape, labels, classNames);
        this.pixels = pixels;
        this.values = values;
        this.archiveSplit = archiveSplit;
        int n = labels.length;
        if (shape.length != 3 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1) {
            throw new IllegalArgumentException(source + ": sample shape " + java.util.Arrays.toString(shape)
                    + "; expected {C, H, W}, each at least 1");
        }
        long per = Limits.product(new long[]{shape[0], shape[1], shape[2]}, source + ": sample shape");
        long have = pixels != null ? pixels.length : values.length;
        if (per > Limits.MAX_ARRAY || per * n != have) {
            throw new IllegalArgumentException(source + ": " + have + " values for " + n + " samples of shape "
                    + java.util.Arrays.toString(shape));
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new InvalidInputException(source + ": label[" + i + "] = " + labels[i] + "; expected 0.."
                        + (classNames.size() - 1));
            }
        }
        if (archiveSplit != null && archiveSplit.size() != n) {
            throw new IllegalArgumentException("split of " + archiveSplit.size() + " for " + n + " samples");
        }
    }

    /**
     * A dataset of uint8 pixels, sample-major, each sample C*H*W values in CHW order (the arrays are not copied).
     *
     * @param classNames K names (use {@link #genericNames(int)} where unknown)
     * @param archiveSplit the source's own split or null
     */
    public static InMemoryDataset ofPixels(String source, int[] shape, byte[] pixels, int[] labels,
                                           List<String> classNames, Split archiveSplit) {
        return new InMemoryDataset(source, shape, pixels, null, labels, classNames, archiveSplit);
    }

    /** A dataset of float values, sample-major (the arrays are not copied). */
    public static InMemoryDataset ofFloats(String source, int[] shape, float[] values, int[] labels,
                                           List<String> classNames) {
        return new InMemoryDataset(source, shape, null, values, labels, classNames, null);
    }

    /** "0", "1", ..., "K-1". */
    public static List<String> genericNames(int k) {
        List<String> names = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            names.add(Integer.toString(i));
        }
        return names;
    }







    @Override
    public Optional<Split> archiveSplit() {
        return Optional.ofNullable(archiveSplit);
    }


    /** True when the samples are uint8 pixels scaled to [-1, 1] in batches. */
    public boolean isPixels() {
        return pixels != null;
    }

    @Override
    public Batch batch(long[] indices) {
        int per = sampleSize();
        int n = indices.length;
        checkBatch(n);
        float[] out = new float[n * per];
        long[] lab = new long[n];
        for (int b = 0; b < n; b++) {
            int idx = checkIndex(indices[b]);
            int from = idx * per;
            int to = b * per;
            if (pixels != null) {
                for (int k = 0; k < per; k++) {
                    out[to + k] = (pixels[from + k] & 0xFF) / 127.5f - 1f;
                }
            } else {
                System.arraycopy(values, from, out, to, per);
            }
            lab[b] = labels[idx];
        }
        Tensor images = Tensors.fromFloats(out, n, shape[0], shape[1], shape[2]);
        Tensor labelTensor = Tensors.fromLongs(lab, n);
        return new Batch(images, labelTensor, indices.clone());
    }
}
