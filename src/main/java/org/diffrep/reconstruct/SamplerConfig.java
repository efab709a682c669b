package org.diffrep.reconstruct;

import org.diffrep.InvalidInputException;

/**
 * Settings of the stochastic denoising sampler (Kadkhodaie and Simoncelli, 2021). Build with
 * {@link #builder}: the defaults are its field initialisers, also readable as {@link #DEFAULTS};
 * the record's constructor validates.
 *
 * @param h0         first step size; with {@code fixedStep} every step has this size, otherwise step t has
 *                   h_t = h0 t / (1 + h0 (t - 1)), growing towards 1 (default 0.01, as the paper)
 * @param beta       share of the removed noise that is not re-injected, in (0, 1]: 1 is deterministic
 *                   ascent, small values inject much noise (default 0.1; the paper's 0.5 with sigmaStart 1
 *                   gave stroke fragments on the MNIST UNet, docs/ANALYSIS.md)
 * @param sigmaStart standard deviation of the initial Gaussian image, and the sigma the conditional
 *                   denoiser is given on the first step; above the data's spread (default 3)
 * @param sigmaEnd   stop when the estimated noise level sigma_hat falls below it (default 0.01, as the paper)
 * @param maxSteps   stop after this many steps whatever sigma_hat is (default 2000)
 * @param fixedStep  use h0 for every step (default false)
 * @param seed       seed of the initial image and the injected noise (default 0)
 */
public record SamplerConfig(double h0, double beta, double sigmaStart, double sigmaEnd, int maxSteps,
                            boolean fixedStep, long seed) {

    public SamplerConfig {
        if (!(h0 > 0 && h0 <= 1)) {
            throw InvalidInputException.field("h0", "must be in (0, 1], got " + h0);
        }
        if (!(beta > 0 && beta <= 1)) {
            throw InvalidInputException.field("beta", "must be in (0, 1], got " + beta);
        }
        if (!(sigmaStart > 0) || !(sigmaEnd > 0) || sigmaEnd >= sigmaStart) {
            throw InvalidInputException.fields("need 0 < {sigmaEnd} < {sigmaStart}, got " + sigmaEnd + " and " + sigmaStart,
                    "sigmaEnd", "sigmaStart");
        }
        if (sigmaStart > MAX_SIGMA) {
            throw InvalidInputException.field("sigmaStart", "must be <= " + MAX_SIGMA + ", got " + sigmaStart);
        }
        if (maxSteps < 1) {
            throw InvalidInputException.field("maxSteps", "must be >= 1, got " + maxSteps);
        }
    }

    /** The largest sigmaStart: far above any data's spread, far below float32's range. */
    public static final double MAX_SIGMA = 1e6;

    /** Every field at its default: h0 0.01, beta 0.1, sigma from 3 down to 0.01, at most 2000 steps, seed 0. */
    public static final SamplerConfig DEFAULTS = builder().build();

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        return new Builder().h0(h0).beta(beta).sigmaStart(sigmaStart).sigmaEnd(sigmaEnd).maxSteps(maxSteps)
                .fixedStep(fixedStep).seed(seed);
    }

    /** The fields with their defaults; every setter returns the builder; the record's constructor validates. */
    public static final class Builder {
        private double h0 = 0.01;
        private double beta = 0.1;
        private double sigmaStart = 3.0;
        private double sigmaEnd = 0.01;
        private int maxSteps = 2000;
        private boolean fixedStep = false;
        private long seed = 0;

        public Builder h0(double v) { h0 = v; return this; }
        public Builder beta(double v) { beta = v; return this; }
        public Builder sigmaStart(double v) { sigmaStart = v; return this; }
        public Builder sigmaEnd(double v) { sigmaEnd = v; return this; }
        public Builder maxSteps(int v) { maxSteps = v; return this; }
        public Builder fixedStep(boolean v) { fixedStep = v; return this; }
        public Builder seed(long v) { seed = v; return this; }

        public SamplerConfig build() {
            return new SamplerConfig(h0, beta, sigmaStart, sigmaEnd, maxSteps, fixedStep, seed);
        }
    }

    /** Step size of step t (1-based). */
    public double step(int t) {
        return fixedStep ? h0 : h0 * t / (1 + h0 * (t - 1));
    }
}
