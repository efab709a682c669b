package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.noise.Seeds;

import java.util.SplittableRandom;

/**
 * Symmetric label noise on the training set: exactly {@code round(fraction * trainCount)} training samples, chosen by
 * a seeded shuffle, get a label drawn uniformly from the K-1 other classes. Test labels are never changed.
 */
public final class LabelNoise {

    /** Seed stream for label noise, under the run's seed. */
    static final long STREAM = 0x4015EL;

    private LabelNoise() {
    }

    /**
     * Labels after flipping.
     *
     * @param labels  the new labels, N of them
     * @param flipped flipped[i] is true where labels[i] differs from the original
     */
    public record Noisy(int[] labels, boolean[] flipped) {
        /** Number of flipped labels. */
        public int flippedCount() {
            int c = 0;
            for (boolean f : flipped) {
                c += f ? 1 : 0;
            }
            return c;
        }
    }

    /**
     * Flips a fraction of the training labels.
     *
     * @param labels     original labels in [0, numClasses)
     * @param numClasses K >= 2
     * @param split      which samples are training samples
     * @param fraction   in [0, 1]
     * @param seed       run seed; the noise uses {@code Seeds.derive(seed, STREAM)}
     */
    public static Noisy flip(int[] labels, int numClasses, Split split, double fraction, long seed) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw InvalidInputException.field("labelNoise", ": expected a fraction in [0, 1], got " + fraction);
        }
        if (numClasses < 2) {
            throw new InvalidInputException("label noise needs at least 2 classes, got " + numClasses);
        }
        if (split.size() != labels.length) {
            throw new IllegalArgumentException("split of " + split.size() + " samples for " + labels.length + " labels");
        }
        int[] train = split.trainIndices();
        SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, STREAM));
        Split.shuffle(train, rng);
        int count = (int) Math.round(fraction * train.length);
        int[] out = labels.clone();
        boolean[] flipped = new boolean[labels.length];
        for (int j = 0; j < count; j++) {
            int i = train[j];
            int other = rng.nextInt(numClasses - 1);
            out[i] = other >= labels[i] ? other + 1 : other;
            flipped[i] = true;
        }
        return new Noisy(out, flipped);
    }
}
