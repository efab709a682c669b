package org.diffrep.analysis;

import org.diffrep.InvalidInputException;

import java.util.Map;
import java.util.TreeMap;

/**
 * Agreement of a clustering with class labels, from the contingency table n_ij (cluster i, class j):
 * purity = sum_i max_j n_ij / N; NMI = I(U;V) / ((H(U) + H(V)) / 2) (the arithmetic normalisation,
 * scikit-learn's default); ARI = (sum_ij C(n_ij,2) - E) / ((a + b)/2 - E) with a = sum_i C(n_i.,2),
 * b = sum_j C(n_.j,2), E = a b / C(N,2).
 *
 * @param purity    share of rows whose cluster's majority class is their class
 * @param nmi       normalised mutual information in [0, 1]
 * @param ari       adjusted Rand index (1 perfect, about 0 for chance)
 * @param contingency [clusters][classes] counts; classes in ascending label order
 * @param classes   the label of each contingency column
 */
public record ClusterMetrics(double purity, double nmi, double ari, long[][] contingency, long[] classes) {

    /** Metrics of assignments (cluster ids >= 0) against labels; equal lengths required. */
    public static ClusterMetrics of(int[] assignments, long[] labels) {
        if (assignments.length != labels.length) {
            throw new InvalidInputException(assignments.length + " assignments but " + labels.length + " labels");
        }
        if (assignments.length == 0) {
            throw new InvalidInputException("no rows to score");
        }
        Map<Long, Integer> classIndex = new TreeMap<>();
        for (long l : labels) {
            classIndex.putIfAbsent(l, 0);
        }
        long[] classes = new long[classIndex.size()];
        int c = 0;
        for (Map.Entry<Long, Integer> e : classIndex.entrySet()) {
            e.setValue(c);
            classes[c++] = e.getKey();
        }
        int clusters = 0;
        for (int a : assignments) {
            if (a < 0) {
                throw new InvalidInputException("negative cluster id " + a);
            }
            clusters = Math.max(clusters, a + 1);
        }
        long[][] table = new long[clusters][classes.length];
        for (int i = 0; i < assignments.length; i++) {
            table[assignments[i]][classIndex.get(labels[i])]++;
        }
        return fromTable(table, classes);
    }

    /** Metrics of a given contingency table [clusters][classes]. */
    public static ClusterMetrics fromTable(long[][] table, long[] classes) {
        int r = table.length;
        int s = classes.length;
        long n = 0;
        long[] rowSum = new long[r];
        long[] colSum = new long[s];
        long majority = 0;
        for (int i = 0; i < r; i++) {
            long max = 0;
            for (int j = 0; j < s; j++) {
                n += table[i][j];
                rowSum[i] += table[i][j];
                colSum[j] += table[i][j];
                max = Math.max(max, table[i][j]);
            }
            majority += max;
        }
        double purity = (double) majority / n;

        double hu = entropy(rowSum, n);
        double hv = entropy(colSum, n);
        double mi = 0;
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < s; j++) {
                long nij = table[i][j];
                if (nij > 0) {
                    mi += (double) nij / n * Math.log((double) nij * n / ((double) rowSum[i] * colSum[j]));
                }
            }
        }
        // Both partitions trivial (one block each): identical, NMI 1 by convention (as scikit-learn).
        double nmi = (hu + hv) == 0 ? 1.0 : Math.max(0, mi) / ((hu + hv) / 2);

        double sumComb = 0;
        for (long[] row : table) {
            for (long v : row) {
                sumComb += comb2(v);
            }
        }
        double a = 0;
        for (long v : rowSum) {
            a += comb2(v);
        }
        double b = 0;
        for (long v : colSum) {
            b += comb2(v);
        }
        double expected = a * b / comb2(n);
        double maxIndex = (a + b) / 2;
        double ari = maxIndex == expected ? 1.0 : (sumComb - expected) / (maxIndex - expected);
        return new ClusterMetrics(purity, Math.min(1.0, nmi), ari, table, classes);
    }

    private static double entropy(long[] counts, long n) {
        double h = 0;
        for (long c : counts) {
            if (c > 0) {
                double p = (double) c / n;
                h -= p * Math.log(p);
            }
        }
        return h;
    }

    private static double comb2(long v) {
        return v * (v - 1) / 2.0;
    }
}
