package org.diffrep.analysis;

import org.diffrep.InvalidInputException;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Which channels of a pooled feature vector count as active: those above a threshold, or the fewest
 * channels that hold a given share of the vector's positive mass (largest first; a vector with no
 * positive entry has none active).
 *
 * @param threshold active when the pooled value is above it (null when the mass rule is used)
 * @param mass      share of the positive mass in (0, 1] (null when the threshold rule is used)
 */
public record ActiveChannels(Double threshold, Double mass) {

    public ActiveChannels {
        if ((threshold == null) == (mass == null)) {
            throw InvalidInputException.fields("give exactly one of {threshold} and {mass}", "threshold", "mass");
        }
        if (threshold != null && !Double.isFinite(threshold)) {
            throw InvalidInputException.field("threshold", "must be a finite number, got " + threshold);
        }
        if (mass != null && !(mass > 0 && mass <= 1)) {
            throw InvalidInputException.field("mass", "must be in (0, 1], got " + mass);
        }
    }

    /** The rule of {@code diffrep sparsity} and a plan's analyses.sparsity when none is given: 90% of the positive mass. */
    public static final ActiveChannels DEFAULT = holdingMass(0.9);

    public static ActiveChannels above(double threshold) {
        return new ActiveChannels(threshold, null);
    }

    public static ActiveChannels holdingMass(double mass) {
        return new ActiveChannels(null, mass);
    }

    /** A description for reports, e.g. "value > 0.1" or "90% of positive mass". */
    public String describe() {
        return threshold != null ? "value > " + threshold : Math.round(mass * 1000) / 10.0 + "% of positive mass";
    }

    /** The active set of one pooled vector. */
    public BitSet of(float[] v) {
        BitSet set = new BitSet(v.length);
        for (float f : v) {
            if (Float.isNaN(f)) {
                throw new InvalidInputException("features contain NaN");
            }
        }
        if (threshold != null) {
            for (int c = 0; c < v.length; c++) {
                if (v[c] > threshold) {
                    set.set(c);
                }
            }
            return set;
        }
        double total = 0;
        for (float f : v) {
            total += Math.max(0, f);
        }
        if (total <= 0) {
            return set;
        }
        Integer[] order = new Integer[v.length];
        Arrays.setAll(order, i -> i);
        // descending by value, ties to the lower channel
        Arrays.sort(order, (a, b) -> v[a] != v[b] ? Float.compare(v[b], v[a]) : Integer.compare(a, b));
        double acc = 0;
        // a small slack so that "all of the mass" is reached despite rounding
        double goal = mass * total * (1 - 1e-9);
        for (Integer c : order) {
            if (acc >= goal || v[c] <= 0) {
                break;
            }
            set.set(c);
            acc += v[c];
        }
        return set;
    }

    /** Jaccard index |A ∩ B| / |A ∪ B|; 1 for two empty sets. */
    public static double jaccard(BitSet a, BitSet b) {
        BitSet inter = (BitSet) a.clone();
        inter.and(b);
        int i = inter.cardinality();
        int u = a.cardinality() + b.cardinality() - i;
        return u == 0 ? 1.0 : (double) i / u;
    }
}
