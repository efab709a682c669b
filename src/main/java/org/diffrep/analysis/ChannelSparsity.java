package org.diffrep.analysis;

import org.diffrep.InvalidInputException;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

/**
 * Channel sparsity of pooled features at one noise level: how many channels each image activates, and
 * how much the active sets of two images overlap (Jaccard), averaged within and between classes. The
 * overlap uses up to {@code perClass} images of each class (seeded sample) and every pair of distinct
 * images among them, so its cost stays fixed whatever N is.
 *
 * @param sigma          the noise level
 * @param activeCounts   [N] active channels per image
 * @param meanActive     mean active count
 * @param stdActive      standard deviation of the active count
 * @param medianActive   median active count
 * @param classes        class labels, ascending
 * @param meanActiveByClass mean active count per class
 * @param overlap        [classes][classes] mean Jaccard index of active sets (diagonal: distinct pairs of one class)
 * @param withinOverlap  mean of the diagonal
 * @param betweenOverlap mean of the off-diagonal entries
 */
public record ChannelSparsity(float sigma, int[] activeCounts, double meanActive, double stdActive, double medianActive,
                              long[] classes, double[] meanActiveByClass, double[][] overlap,
                              double withinOverlap, double betweenOverlap) {

    /** Measures features [N][C] with labels [N]. */
    public static ChannelSparsity measure(float sigma, float[][] features, long[] labels, ActiveChannels rule,
                                          int perClass, long seed) {
        if (features.length != labels.length) {
            throw new InvalidInputException(features.length + " feature rows but " + labels.length + " labels");
        }
        if (features.length == 0) {
            throw new InvalidInputException("no feature rows");
        }
        if (perClass < 2) {
            throw InvalidInputException.field("perClass", "must be >= 2, got " + perClass);
        }
        int n = features.length;
        BitSet[] active = new BitSet[n];
        int[] counts = new int[n];
        for (int i = 0; i < n; i++) {
            try {
                active[i] = rule.of(features[i]);
            } catch (InvalidInputException e) {
                throw new InvalidInputException("sigma " + sigma + ", row " + i + ": " + e.getMessage());
            }
            counts[i] = active[i].cardinality();
        }
        TreeMap<Long, List<Integer>> byClass = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            byClass.computeIfAbsent(labels[i], l -> new ArrayList<>()).add(i);
        }
        long[] classes = byClass.keySet().stream().mapToLong(Long::longValue).toArray();
        int k = classes.length;
        double[] meanByClass = new double[k];
        List<List<Integer>> sample = new ArrayList<>();
        Random rng = new Random(seed);
        for (int a = 0; a < k; a++) {
            List<Integer> members = new ArrayList<>(byClass.get(classes[a]));
            meanByClass[a] = members.stream().mapToInt(i -> counts[i]).average().orElse(0);
            Collections.shuffle(members, rng);
            sample.add(members.subList(0, Math.min(perClass, members.size())));
        }
        double[][] overlap = new double[k][k];
        for (int a = 0; a < k; a++) {
            for (int b = a; b < k; b++) {
                double sum = 0;
                long pairs = 0;
                for (int i : sample.get(a)) {
                    for (int j : sample.get(b)) {
                        if (a == b && j <= i) {
                            continue;
                        }
                        sum += ActiveChannels.jaccard(active[i], active[j]);
                        pairs++;
                    }
                }
                overlap[a][b] = overlap[b][a] = pairs == 0 ? Double.NaN : sum / pairs;
            }
        }
        double within = 0, between = 0;
        int nw = 0, nb = 0;
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                if (Double.isNaN(overlap[a][b])) {
                    continue;
                }
                if (a == b) {
                    within += overlap[a][b];
                    nw++;
                } else {
                    between += overlap[a][b];
                    nb++;
                }
            }
        }
        double mean = 0;
        for (int c : counts) {
            mean += c;
        }
        mean /= n;
        double var = 0;
        for (int c : counts) {
            var += (c - mean) * (c - mean);
        }
        int[] sorted = counts.clone();
        java.util.Arrays.sort(sorted);
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return new ChannelSparsity(sigma, counts, mean, Math.sqrt(var / n), median, classes, meanByClass, overlap,
                nw == 0 ? Double.NaN : within / nw, nb == 0 ? Double.NaN : between / nb);
    }
}
