package org.diffrep.probe;

import java.util.List;

/**
 * The soft-voting ensemble of the representation-dynamics research: the probes at the best noise
 * level and {@code width} neighbours on each side (clipped at the ends of the grid) vote by
 * averaging their logits.
 */
public final class SoftVoting {

    private SoftVoting() {
    }

    /** Index of the highest accuracy (the first one on ties). */
    public static int best(double[] accuracies) {
        int best = 0;
        for (int i = 1; i < accuracies.length; i++) {
            if (accuracies[i] > accuracies[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Members of the window of {@code width} neighbours each side of {@code center} within [0, size). */
    public static int[] window(int size, int center, int width) {
        if (width < 0) {
            throw new IllegalArgumentException("ensemble width must be >= 0, got " + width);
        }
        int lo = Math.max(0, center - width), hi = Math.min(size - 1, center + width);
        int[] out = new int[hi - lo + 1];
        for (int i = 0; i < out.length; i++) {
            out[i] = lo + i;
        }
        return out;
    }

    /** Element-wise mean of equally shaped logit arrays. */
    public static double[] average(List<double[]> logits) {
        if (logits.isEmpty()) {
            throw new IllegalArgumentException("no probes to average");
        }
        double[] sum = new double[logits.get(0).length];
        for (double[] l : logits) {
            if (l.length != sum.length) {
                throw new IllegalArgumentException("logit arrays differ in length: " + l.length + " vs " + sum.length);
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] += l[i];
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= logits.size();
        }
        return sum;
    }
}
