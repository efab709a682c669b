package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.Choice;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.model.Denoiser;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * How reconstruction steers the sampler toward a target's representation. Build with {@link #builder}:
 * the defaults are its field initialisers, also readable as {@link #DEFAULTS}; the record's
 * constructor validates.
 *
 * @param strength     lambda (--guidance); 0 samples unconditionally (default 0.3)
 * @param tap          the tap whose channel means are the representation (default {@link Representation#DEFAULT_TAP})
 * @param scaling      how the gradient is sized against the denoiser step (default NORMALISED)
 * @param metric       the distance pulled in: Euclidean, or whitened by the representation covariance of
 *                     real images ({@link RepresentationMetric}, estimated by {@link #estimateMetric}) (default whitened)
 * @param metricImages dataset images (seeded random) the whitened metric is estimated from (default 512)
 * @param metricShrink ridge of the whitened metric, relative to the mean variance (default {@link RepresentationMetric#SHRINK})
 * @param match        what is matched at each step (see {@link RepresentationGuidance.Match}) (default DENOISED)
 * @param targetDraws  noise draws of the target averaged per sample and step (NOISY) (default 4)
 * @param matchSigma   the level both representations are read at (DENOISED) (default 2)
 * @param untilSigma   no pull once a sample's sigma_hat is below this (default 0: pull to the end)
 */
public record GuidanceSettings(double strength, String tap, RepresentationGuidance.Scaling scaling,
                               RepresentationMetric.Kind metric, int metricImages, double metricShrink,
                               RepresentationGuidance.Match match, int targetDraws, double matchSigma,
                               double untilSigma) {

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

    /** Every field at its default. */
    public static final GuidanceSettings DEFAULTS = builder().build();

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        return new Builder().strength(strength).tap(tap).scaling(scaling).metric(metric).metricImages(metricImages)
                .metricShrink(metricShrink).match(match).targetDraws(targetDraws).matchSigma(matchSigma)
                .untilSigma(untilSigma);
    }

    /** The fields with their defaults; every setter returns the builder; the record's constructor validates. */
    public static final class Builder {
        private double strength = 0.3;
        private String tap = Representation.DEFAULT_TAP;
        private RepresentationGuidance.Scaling scaling = RepresentationGuidance.Scaling.NORMALISED;
        private RepresentationMetric.Kind metric = RepresentationMetric.Kind.WHITENED;
        private int metricImages = 512;
        private double metricShrink = RepresentationMetric.SHRINK;
        private RepresentationGuidance.Match match = RepresentationGuidance.Match.DENOISED;
        private int targetDraws = 4;
        private double matchSigma = 2.0;
        private double untilSigma = 0;

        public Builder strength(double v) { strength = v; return this; }
        public Builder tap(String v) { tap = v; return this; }
        public Builder scaling(RepresentationGuidance.Scaling v) { scaling = v; return this; }
        public Builder metric(RepresentationMetric.Kind v) { metric = v; return this; }
        public Builder metricImages(int v) { metricImages = v; return this; }
        public Builder metricShrink(double v) { metricShrink = v; return this; }
        public Builder match(RepresentationGuidance.Match v) { match = v; return this; }
        public Builder targetDraws(int v) { targetDraws = v; return this; }
        public Builder matchSigma(double v) { matchSigma = v; return this; }
        public Builder untilSigma(double v) { untilSigma = v; return this; }

        public GuidanceSettings build() {
            return new GuidanceSettings(strength, tap, scaling, metric, metricImages, metricShrink, match, targetDraws,
                    matchSigma, untilSigma);
        }
    }

    /**
     * The metric the guidance pulls in, for {@code model} on {@code data}: null for Euclidean; for
     * whitened, estimated from {@link #metricImages} seeded random dataset images at {@link #matchSigma}
     * (DENOISED) or at 8 levels over the sampler's range (NOISY, CLEAN).
     */
    public RepresentationMetric estimateMetric(Denoiser model, Dataset data, SamplerConfig sampler) {
        if (metric == RepresentationMetric.Kind.EUCLIDEAN) {
            return null;
        }
        if (metricImages < 2 || metricImages > data.size()) {
            throw InvalidInputException.field("metricImages", "must be in [2, " + data.size() + "], got " + metricImages);
        }
        Random rng = new Random(sampler.seed() ^ 0x3e7L);
        long[] idx = rng.longs(0, data.size()).distinct().limit(metricImages).toArray();
        Representation.checkTap(model, tap);
        try (PointerScope scope = new PointerScope()) {
            Tensor images = data.batch(idx).images();
            return match == RepresentationGuidance.Match.DENOISED
                    ? RepresentationMetric.estimate(model, tap, images, matchSigma, matchSigma, 1, metricShrink)
                    : RepresentationMetric.estimate(model, tap, images, sampler.sigmaEnd(), sampler.sigmaStart(), 8,
                    metricShrink);
        } catch (InvalidInputException e) {
            if (!"images".equals(e.field())) {
                throw e;
            }
            throw InvalidInputException.fields("{metric} whitened: " + InvalidInputException.literal(e.getMessage())
                    + "; raise {metricImages}", "metric", "metricImages");
        }
    }

    /**
     * The guidance toward {@code target} [1, C, H, W], its target noise seeded by {@code seed}, pulling in
     * {@code metric} ({@link #estimateMetric}; null: Euclidean).
     */
    RepresentationGuidance toward(Denoiser d, Tensor target, long seed, RepresentationMetric metric) {
        return new RepresentationGuidance(d, tap, target, strength, scaling).withMetric(metric)
                .withMatch(match, targetDraws, matchSigma, seed).until(untilSigma);
    }

    /**
     * What this guidance is, measured against the research's reconstruction (Kadkhodaie, Mallat and Simoncelli
     * match the noisy sample's channel means to phi(x*, sigma) = E_z m(x* + sigma z; sigma), Euclidean, the
     * gradient taken on y): the default (DENOISED, whitened) is diffrep's own change, so every report says so.
     */
    public String method() {
        boolean whitened = metric == RepresentationMetric.Kind.WHITENED;
        String dist = whitened ? "a whitened (Mahalanobis) distance, covariance of " + metricImages
                + " real images' representations" : "Euclidean distance";
        String sizing = scaling == RepresentationGuidance.Scaling.NORMALISED
                ? "; the pull is lambda times the denoiser step's length (diffrep's sizing)" : "";
        return switch (match) {
            case DENOISED -> "diffrep's own change to the paper's method: a DPS-style pull through the denoised "
                    + "estimate D(y) (the " + tap + " channel means of D(y; sigma_hat) against the target's, both read "
                    + "on clean input at sigma " + matchSigma + ", the gradient taken through the denoiser) in "
                    + dist + sizing + "; the paper matches the noisy sample's means to E_z m(x* + sigma z; sigma) in "
                    + "Euclidean distance (--match noisy --metric euclidean)";
            case NOISY -> (whitened ? "the paper's noisy-input matching with diffrep's whitened distance: "
                    : "the paper's noisy-input matching: ") + "m(y; sigma_hat) against E_z m(x* + sigma_hat z; sigma_hat) "
                    + "over " + targetDraws + " draws, in " + dist + ", the gradient on y" + sizing;
            case CLEAN -> "diffrep's first variant, not the paper's: m(y; sigma_hat) against the clean target "
                    + "conditioned on sigma_hat, in " + dist + ", the gradient on y" + sizing;
        };
    }

    /** JSON-friendly summary for reports. */
    Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method());
        m.put("strength", strength);
        m.put("tap", tap);
        m.put("scaling", scaling.name().toLowerCase());
        m.put("metric", Choice.idOf(metric));
        m.put("match", match.name().toLowerCase());
        m.put("target_draws", targetDraws);
        m.put("match_sigma", matchSigma);
        m.put("until_sigma", untilSigma);
        return m;
    }
}
