package org.diffrep.probe;

import java.util.Arrays;

/** Turns logits and true labels into a {@link ProbeResult}: accuracy, top-5, per class, confusion. */
public final class ProbeScoring {

    private ProbeScoring() {
    }

    /** How a probe was fitted, carried into its result. */
    public record FitInfo(double l2, boolean l2Searched, int iterations, boolean converged, double fitSeconds) {
    }

    /**
     * @param logits row-major [N, K]; the prediction is the first maximum, and a true class counts
     *               as top-5 when fewer than five classes score strictly higher (ties to the lower index)
     */
    public static ProbeResult score(double[] logits, long[] labels, int k, FitInfo fit) {
        int n = labels.length;
        if (logits.length != (long) n * k) {
            throw new IllegalArgumentException(logits.length + " logits for " + n + " rows of " + k + " classes");
        }
        long[][] confusion = new long[k][k];
        long correct = 0, top5 = 0;
        for (int i = 0; i < n; i++) {
            int y = (int) labels[i];
            if (y < 0 || y >= k) {
                throw new IllegalArgumentException("label " + labels[i] + " of test row " + i + " is outside [0, " + k + ")");
            }
            int best = 0;
            double own = logits[i * k + y];
            int above = 0;
            for (int j = 0; j < k; j++) {
                double v = logits[i * k + j];
                if (v > logits[i * k + best]) {
                    best = j;
                }
                if (v > own || (v == own && j < y)) {
                    above++;
                }
            }
            confusion[y][best]++;
            if (best == y) {
                correct++;
            }
            if (above < 5) {
                top5++;
            }
        }
        double[] perClass = new double[k];
        for (int c = 0; c < k; c++) {
            long total = Arrays.stream(confusion[c]).sum();
            perClass[c] = total == 0 ? Double.NaN : (double) confusion[c][c] / total;
        }
        Double top5Accuracy = k > 10 ? (double) top5 / n : null;
        return new ProbeResult(n == 0 ? Double.NaN : (double) correct / n, top5Accuracy, perClass, confusion, n,
                fit.l2(), fit.l2Searched(), fit.iterations(), fit.converged(), fit.fitSeconds());
    }
}
