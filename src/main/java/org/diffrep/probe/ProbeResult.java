package org.diffrep.probe;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What a probe scores on a test set; plain data, written to JSON as is.
 *
 * @param accuracy         top-1 accuracy in [0, 1]
 * @param top5Accuracy     top-5 accuracy, or null when there are 10 classes or fewer
 * @param perClassAccuracy top-1 accuracy per true class (NaN for a class absent from the test set)
 * @param confusion        counts [true class][predicted class]
 * @param count            test samples
 * @param l2               the L2 penalty the probe was trained with
 * @param l2Searched       whether l2 was chosen by the validation search
 * @param iterations       optimiser iterations (L-BFGS) or epochs (Adam) of the final fit
 * @param converged        whether the final fit met its gradient tolerance (always true for Adam)
 * @param fitSeconds       wall time of the whole fit, search included
 */
public record ProbeResult(double accuracy, Double top5Accuracy, double[] perClassAccuracy, long[][] confusion,
                          long count, double l2, boolean l2Searched, int iterations, boolean converged,
                          double fitSeconds) {

    /** z of a two-sided 95% normal interval. */
    static final double Z95 = 1.959963984540054;

    /**
     * The 95% Wilson score interval of the accuracy over the {@link #count} test samples, [low, high]: how far
     * the test set's size alone lets the accuracy move (written to JSON as {@code accuracyInterval95}).
     */
    @JsonProperty("accuracyInterval95")
    public double[] accuracyInterval95() {
        return wilson(accuracy, count, Z95);
    }

    /** {@link #wilson} at 95% (two-sided): the interval every accuracy and match rate in diffrep's reports carries. */
    public static double[] wilson95(double p, long n) {
        return wilson(p, n, Z95);
    }

    /**
     * Wilson's score interval for a proportion {@code p} observed on {@code n} trials at normal quantile {@code z}:
     * unlike p +- z sqrt(p(1-p)/n) it stays inside [0, 1] and is not empty at p = 0 or 1. NaN bounds for n = 0.
     */
    public static double[] wilson(double p, long n, double z) {
        if (n <= 0 || Double.isNaN(p)) {
            return new double[]{Double.NaN, Double.NaN};
        }
        double z2n = z * z / n;
        double centre = (p + z2n / 2) / (1 + z2n);
        double half = z * Math.sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
        return new double[]{Math.max(0, centre - half), Math.min(1, centre + half)};
    }
}
