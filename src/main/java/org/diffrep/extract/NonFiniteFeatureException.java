package org.diffrep.extract;

import java.util.List;

/** A feature came out NaN or infinite: names the samples (dataset indices), the layer and the noise level. */
public final class NonFiniteFeatureException extends RuntimeException {

    private final List<Long> samples;
    private final String layer;
    private final int sigmaIndex;

    NonFiniteFeatureException(List<Long> samples, String layer, int sigmaIndex, float sigma) {
        super("NaN or Inf in the features of layer " + layer + " at sigma " + sigma + " (index " + sigmaIndex
                + ") for dataset samples " + (samples.size() > 20 ? samples.subList(0, 20) + " and "
                + (samples.size() - 20) + " more" : samples) + "; the store was left incomplete");
        this.samples = List.copyOf(samples);
        this.layer = layer;
        this.sigmaIndex = sigmaIndex;
    }

    /** Dataset indices of the offending samples. */
    public List<Long> samples() {
        return samples;
    }

    public String layer() {
        return layer;
    }

    public int sigmaIndex() {
        return sigmaIndex;
    }
}
