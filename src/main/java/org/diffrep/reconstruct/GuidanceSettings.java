package org.diffrep.reconstruct;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.model.Denoiser;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How reconstruction steers the sampler toward a target's representation.
 *
 * @param strength    lambda; 0 samples unconditionally
 * @param tap         the tap whose channel means are the representation
 * @param scaling     how the gradient is sized against the denoiser step
 * @param metric      the distance pulled in; null for Euclidean
 * @param match       what is matched at each step (see {@link RepresentationGuidance.Match})
 * @param targetDraws noise draws of the target averaged per sample and step (NOISY)
 * @param matchSigma  the level both representations are read at (DENOISED)
 * @param untilSigma  no pull once a sample's sigma_hat is below this
 */
public record GuidanceSettings(double strength, String tap, RepresentationGuidance.Scaling scaling,
                               RepresentationMetric metric, RepresentationGuidance.Match match,
                               int targetDraws, double matchSigma, double untilSigma) {

    public GuidanceSettings {
        if (!(strength >= 0) || Double.isInfinite(strength)) {
            throw InvalidInputException.field("strength", "must be a finite number >= 0, got " + strength);
        }
        if (!(matchSigma > 0) || Double.isInfinite(matchSigma)) {
            throw InvalidInputException.field("matchSigma", "must be > 0, got " + matchSigma);
        }
        if (!(untilSigma >= 0) || Double.isInfinite(untilSigma)) {
            throw InvalidInputException.field("untilSigma", "must be >= 0, got " + untilSigma);
        }
        if (targetDraws < 1) {
            throw InvalidInputException.field("targetDraws", "must be >= 1, got " + targetDraws);
        }
    }

    /** The guidance toward {@code target} [1, C, H, W], its target noise seeded by {@code seed}. */
    RepresentationGuidance toward(Denoiser d, Tensor target, long seed) {
        return new RepresentationGuidance(d, tap, target, strength, scaling).withMetric(metric)
                .withMatch(match, targetDraws, matchSigma, seed).until(untilSigma);
    }

    /** JSON-friendly summary for reports. */
    Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("strength", strength);
        m.put("tap", tap);
        m.put("scaling", scaling.name().toLowerCase());
        m.put("metric", metric == null ? "euclidean" : "whitened");
        m.put("match", match.name().toLowerCase());
        m.put("target_draws", targetDraws);
        m.put("match_sigma", matchSigma);
        m.put("until_sigma", untilSigma);
        return m;
    }
}
