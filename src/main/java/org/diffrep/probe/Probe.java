package org.diffrep.probe;

import org.bytedeco.pytorch.Tensor;

/** A fitted classifier on features: logits for rows, and a score on a labelled test set. */
public interface Probe {

    int numClasses();

    /** Logits [N, K] for raw (unstandardised) features [N, C]. */
    Tensor logits(Tensor x);

    /** Accuracy, per-class accuracy and confusion on a labelled test set. */
    ProbeResult evaluate(Tensor x, long[] labels);
}
