package org.diffrep.data;

import java.util.List;
import java.util.Optional;

/**
 * A labelled set of images (or vectors) read by index, so that any subset in any order can be batched.
 * Implementations are immutable: they hold their data decoded in memory, memory-mapped ({@link MappedNpyDataset}) or as
 * an index of files and labels whose images are decoded per batch ({@code folder:}, {@link TarShards}), and
 * {@link #batch} may be called from several threads at once (e.g. prefetching the next batch while the current one runs).
 */
public interface Dataset {

    /** Number of samples N. */
    int size();

    /** Shape of one sample as {C, H, W}; vector data such as MoLRG is {1, 1, n}. */
    int[] imageShape();

    /** Number of classes K; labels are in [0, K). */
    int numClasses();

    /** Names of the classes, K of them; "0".."K-1" where the source has no names. */
    List<String> classNames();

    /** Label of sample i. */
    int label(int i);

    /** A copy of all N labels. */
    int[] labels();

    /**
     * A batch of the given samples, in the given order (repeats allowed): images float32 [n, C, H, W], labels int64 [n].
     * Pixel sources (IDX, CIFAR, folder, uint8 npy) are scaled from [0, 255] to [-1, 1]; float sources (float npy,
     * MoLRG) are returned as stored. The tensors are CPU tensors created in the caller's current PointerScope.
     *
     * @throws IndexOutOfBoundsException if an index is outside [0, N)
     */
    Batch batch(long[] indices);

    /** {@link #batch(long[])} for int indices. */
    default Batch batch(int[] indices) {
        long[] l = new long[indices.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = indices[i];
        }
        return batch(l);
    }

    /** The split that the source itself defines (CIFAR's train and test batches), if it has one. */
    default Optional<Split> archiveSplit() {
        return Optional.empty();
    }

    /** Where the data came from, for manifests and logs (the data spec as given). */
    String source();

    /** Elements per sample, C*H*W. */
    default int sampleSize() {
        int[] s = imageShape();
        return s[0] * s[1] * s[2];
    }

    /** Samples per class, K counts. */
    default int[] classCounts() {
        int[] counts = new int[numClasses()];
        for (int i = 0; i < size(); i++) {
            counts[label(i)]++;
        }
        return counts;
    }
}
