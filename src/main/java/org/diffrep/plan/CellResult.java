package org.diffrep.plan;

import org.diffrep.study.ProbeStudy;

import java.util.ArrayList;
import java.util.List;

/**
 * What a plan keeps of a cell's probe study (cached as {@code result.json} beside the full
 * {@code probe.json}): per layer and label-noise level, accuracy against sigma, the peak and the
 * ensemble around it.
 */
public record CellResult(String probe, int numClasses, int trainCount, int testCount, List<Curve> curves) {

    /**
     * One curve.
     *
     * @param best       index of the peak sigma
     * @param gain       ensemble accuracy minus the peak's
     */
    public record Curve(String layer, double labelNoise, double[] sigmas, double[] accuracies, int best,
                        double bestSigma, double bestAccuracy, double ensembleAccuracy, double gain) {
    }

    static CellResult of(ProbeStudy.Report r) {
        List<Curve> curves = new ArrayList<>();
        for (ProbeStudy.Curve c : r.curves()) {
            ProbeStudy.Ensemble e = c.ensemble();
            curves.add(new Curve(c.layer(), c.labelNoise(), c.sigmas(), c.accuracies(), e.bestSigmaIndex(),
                    e.bestSigma(), e.bestAccuracy(), e.result().accuracy(), e.gain()));
        }
        return new CellResult(r.probe(), r.numClasses(), r.trainCount(), r.testCount(), curves);
    }

    /** The curve of {@code layer} at label noise {@code noise}, or null. */
    Curve curve(String layer, double noise) {
        for (Curve c : curves) {
            if (c.layer().equals(layer) && c.labelNoise() == noise) {
                return c;
            }
        }
        return null;
    }
}
