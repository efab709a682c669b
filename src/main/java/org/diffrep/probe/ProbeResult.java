package org.diffrep.probe;

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
}
