package org.diffrep.probe;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** A fitted classifier on features: logits for rows, and a score on a labelled test set. */
public interface Probe {

    int numClasses();

    /** Logits [N, K] for raw (unstandardised) features [N, C]. */
    Tensor logits(Tensor x);

    /** How the fit went (penalty, iterations, time), reported with every score. */
    ProbeScoring.FitInfo fitInfo();

    /** Accuracy, top-5 accuracy (more than 10 classes), per-class accuracy and confusion on a labelled test set. */
    default ProbeResult evaluate(Tensor x, long[] labels) {
        if (x.size(0) != labels.length) {
            throw new IllegalArgumentException(x.size(0) + " test rows but " + labels.length + " labels");
        }
        double[] z;
        try (PointerScope scope = new PointerScope()) {
            z = LogitArrays.of(logits(x));
        }
        return ProbeScoring.score(z, labels, numClasses(), fitInfo());
    }
}
