package org.diffrep.reconstruct;

import org.diffrep.InvalidInputException;

/**
 * Settings of the stochastic denoising sampler (Kadkhodaie and Simoncelli, 2021).
 *
 * @param h0         first step size; with {@code fixedStep} every step has this size, otherwise step t has
 *                   h_t = h0 t / (1 + h0 (t - 1)), growing towards 1 (paper: 0.01)
 * @param beta       share of the removed noise that is not re-injected, in (0, 1]: 1 is deterministic
 *                   ascent, small values inject much noise (paper: 0.5 for samples)
 * @param sigmaStart standard deviation of the initial Gaussian image, and the sigma the conditional
 *                   denoiser is given on the first step (default 1)
 * @param sigmaEnd   stop when the estimated noise level sigma_hat falls below it (paper: 0.01)
 * @param maxSteps   stop after this many steps whatever sigma_hat is
 * @param fixedStep  use h0 for every step
 * @param seed       seed of the initial image and the injected noise
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

    /** The paper's settings for samples: h0 0.01, beta 0.5, sigma from 1 down to 0.01, at most 2000 steps. */
    public static SamplerConfig defaults(long seed) {
        return new SamplerConfig(0.01, 0.5, 1.0, 0.01, 2000, false, seed);
    }

    /** The same settings with another seed. */
    public SamplerConfig withSeed(long s) {
        return new SamplerConfig(h0, beta, sigmaStart, sigmaEnd, maxSteps, fixedStep, s);
    }

    /** Step size of step t (1-based). */
    public double step(int t) {
        return fixedStep ? h0 : h0 * t / (1 + h0 * (t - 1));
    }
}
