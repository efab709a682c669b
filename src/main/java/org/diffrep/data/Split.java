package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.noise.Seeds;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A train/test assignment of every sample: mask[i] = 1 for train, 0 for test, written as {@code split.npy}
 * (uint8 [N]) so that every analysis uses the same split.
 */
public final class Split {

    /** Seed stream for the split, under the run's seed. */
    static final long STREAM = 0x5B117L;

    private final byte[] mask;

    /** A split from a mask of 0s and 1s (copied). */
    public Split(byte[] mask) {
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] != 0 && mask[i] != 1) {
                throw new IllegalArgumentException("split mask[" + i + "] = " + mask[i] + "; expected 0 or 1");
            }
        }
        this.mask = mask.clone();
    }

    /**
     * A stratified seeded split: in each class, the samples are shuffled (seeded by {@code Seeds.derive(seed, STREAM)}
     * and the class) and the first {@code round(trainFrac * classCount)} go to train. The result depends only on the
     * labels, trainFrac and seed.
     *
     * @param trainFrac fraction in (0, 1]
     */
    public static Split stratified(int[] labels, int numClasses, double trainFrac, long seed) {
        if (!(trainFrac > 0 && trainFrac <= 1)) {
            throw InvalidInputException.field("trainFrac", ": expected a fraction in (0, 1], got " + trainFrac);
        }
        int[][] byClass = indicesByClass(labels, numClasses);
        byte[] mask = new byte[labels.length];
        long base = Seeds.derive(seed, STREAM);
        for (int k = 0; k < numClasses; k++) {
            int[] idx = byClass[k];
            shuffle(idx, new SplittableRandom(Seeds.derive(base, k)));
            int train = (int) Math.round(trainFrac * idx.length);
            for (int j = 0; j < train; j++) {
                mask[idx[j]] = 1;
            }
        }
        return new Split(mask);
    }

    /** {@link #stratified} over a dataset's labels. */
    public static Split of(Dataset data, double trainFrac, long seed) {
        return stratified(data.labels(), data.numClasses(), trainFrac, seed);
    }

    /**
     * The split to use: the dataset's own split (CIFAR) when {@code trainFrac} is null and it has one; otherwise
     * {@link #of} with {@code trainFrac} (0.8 when null).
     */
    public static Split choose(Dataset data, Double trainFrac, long seed) {
        if (trainFrac == null) {
            return data.archiveSplit().orElseGet(() -> of(data, 0.8, seed));
        }
        return of(data, trainFrac, seed);
    }

    static int[][] indicesByClass(int[] labels, int numClasses) {
        int[] counts = new int[numClasses];
        for (int l : labels) {
            counts[l]++;
        }
        int[][] out = new int[numClasses][];
        for (int k = 0; k < numClasses; k++) {
            out[k] = new int[counts[k]];
        }
        int[] fill = new int[numClasses];
        for (int i = 0; i < labels.length; i++) {
            out[labels[i]][fill[labels[i]]++] = i;
        }
        return out;
    }

    /** Fisher-Yates with the given generator. */
    static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The mask, 1 = train (a copy). */
    public byte[] mask() {
        return mask.clone();
    }

    /** Number of samples. */
    public int size() {
        return mask.length;
    }

    public boolean isTrain(int i) {
        return mask[i] == 1;
    }

    /** Indices of the training samples, ascending. */
    public int[] trainIndices() {
        return select(1);
    }

    /** Indices of the test samples, ascending. */
    public int[] testIndices() {
        return select(0);
    }

    private int[] select(int v) {
        return java.util.stream.IntStream.range(0, mask.length).filter(i -> mask[i] == v).toArray();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Split s && Arrays.equals(mask, s.mask);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(mask);
    }

    @Override
    public String toString() {
        return "Split(train=" + trainIndices().length + ", test=" + testIndices().length + ")";
    }
}
