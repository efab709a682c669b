package org.diffrep.reconstruct;

import org.diffrep.InvalidInputException;
import org.diffrep.model.Denoiser;

/**
 * A reconstruction run besides its model, data and targets: how many samples, the baseline, the
 * classifier of a study, where distances are read, the guidance and the sampler. Build with
 * {@link #builder}: the defaults are its field initialisers, also readable as {@link #DEFAULTS};
 * {@link Builder#build} validates.
 *
 * @param samples   samples per target (default 10)
 * @param baseline  random dataset images whose representation distance to the target is the baseline (default 50)
 * @param knnImages real images the 3-NN classifiers of a study over many targets use (default 2000)
 * @param repSigma  noise level at which the reported distances are read (clean input); null: the
 *                  guidance's matchSigma (the default)
 * @param guidance  how the sampler is steered (default {@link GuidanceSettings#DEFAULTS})
 * @param sampler   the stochastic sampler (default {@link SamplerConfig#DEFAULTS})
 */
public record ReconstructConfig(int samples, int baseline, int knnImages, Float repSigma, GuidanceSettings guidance,
                                SamplerConfig sampler) {

    /** Every field at its default. */
    public static final ReconstructConfig DEFAULTS = builder().build();

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        return new Builder().samples(samples).baseline(baseline).knnImages(knnImages).repSigma(repSigma)
                .guidance(guidance).sampler(sampler);
    }

    /** The level the reported distances are read at: {@link #repSigma}, or the guidance's matchSigma. */
    public float reportSigma() {
        return repSigma != null ? repSigma : (float) guidance.matchSigma();
    }

    /**
     * Refuses a run whose sampling cannot fit the memory limits (every sample of a target at once, with
     * its noisy copies of the target when matching NOISY), before anything is loaded.
     */
    public void checkMemory(Denoiser model) {
        boolean noisy = guidance.match() == RepresentationGuidance.Match.NOISY;
        StochasticSampler.checkMemory(model, (double) samples * (noisy ? guidance.targetDraws() : 1),
                guidance.strength() == 0 ? 1 : 3,
                "{samples} " + samples + (noisy ? " {targetDraws} " + guidance.targetDraws() : ""),
                noisy ? new String[]{"samples", "targetDraws"} : new String[]{"samples"});
    }

    /** The fields with their defaults; every setter returns the builder. */
    public static final class Builder {
        private int samples = 10;
        private int baseline = 50;
        private int knnImages = 2000;
        private Float repSigma = null;
        private GuidanceSettings guidance = GuidanceSettings.DEFAULTS;
        private SamplerConfig sampler = SamplerConfig.DEFAULTS;

        public Builder samples(int v) { samples = v; return this; }
        public Builder baseline(int v) { baseline = v; return this; }
        public Builder knnImages(int v) { knnImages = v; return this; }
        public Builder repSigma(Float v) { repSigma = v; return this; }
        public Builder guidance(GuidanceSettings v) { guidance = v; return this; }
        public Builder sampler(SamplerConfig v) { sampler = v; return this; }

        public ReconstructConfig build() {
            if (samples < 1 || baseline < 0 || knnImages < 3) {
                throw InvalidInputException.fields("{samples} must be >= 1, {baseline} >= 0 and {knnImages} >= 3, got "
                        + samples + ", " + baseline + " and " + knnImages, "samples", "baseline", "knnImages");
            }
            ReconstructConfig c = new ReconstructConfig(samples, baseline, knnImages, repSigma, guidance, sampler);
            float s = c.reportSigma();
            if (!(s > 0) || Float.isInfinite(s)) {
                throw InvalidInputException.field("repSigma", "must be > 0, got " + s);
            }
            return c;
        }
    }
}
