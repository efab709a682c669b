package org.diffrep.model;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * How a network F is wrapped into an EDM denoiser {@code D(x; sigma) = c_skip x + c_out F(c_in x; c_noise)}.
 *
 * <ul>
 *   <li>{@link #EDM}: Karras et al. (2022) with sigma_data = 0.5 (data scaled to [-1, 1]);
 *       c_noise = ln(sigma) / 4.</li>
 *   <li>{@link #VP}: a DDPM noise-prediction network on the VP linear schedule (beta 1e-4 to 0.02,
 *       T = 1000). It sees {@code s * x} with {@code s = 1/sqrt(1+sigma^2)}, is conditioned on the
 *       continuous timestep {@code (T-1) t(sigma)}, and predicts eps, so D = x - sigma * F.</li>
 * </ul>
 */
public enum Parametrisation {
    EDM, VP;

    public static final double SIGMA_DATA = 0.5;
    /** VP linear schedule in continuous time: beta(t) = BETA_MIN + BETA_D t for t in [0, 1]. */
    public static final double BETA_MIN = 0.1;
    public static final double BETA_D = 19.9;
    public static final int VP_STEPS = 1000;

    /** Coefficients for a batch of sigmas {@code [N]}; each result has shape {@code [N]}. */
    public Coefficients coefficients(Tensor sigma) {
        Tensor s2 = sigma.mul(sigma);
        if (this == EDM) {
            double sd2 = SIGMA_DATA * SIGMA_DATA;
            Tensor denom = s2.add(new Scalar(sd2));
            Tensor cSkip = denom.reciprocal().mul(new Scalar(sd2));
            Tensor cOut = sigma.mul(new Scalar(SIGMA_DATA)).div(denom.sqrt());
            Tensor cIn = denom.rsqrt();
            Tensor cNoise = sigma.log().div(new Scalar(4.0));
            return new Coefficients(cSkip, cOut, cIn, cNoise);
        }
        Tensor cSkip = sigma.mul(new Scalar(0.0)).add(new Scalar(1.0));
        Tensor cOut = sigma.neg();
        Tensor cIn = s2.add(new Scalar(1.0)).rsqrt();
        Tensor cNoise = vpTime(sigma).mul(new Scalar(VP_STEPS - 1));
        return new Coefficients(cSkip, cOut, cIn, cNoise);
    }

    /** Continuous VP time t in [0, 1] of a noise level: inverse of sigma(t) = sqrt(exp(BETA_D t^2/2 + BETA_MIN t) - 1). */
    public static Tensor vpTime(Tensor sigma) {
        Tensor l = sigma.mul(sigma).log1p().mul(new Scalar(2.0 * BETA_D));
        return l.add(new Scalar(BETA_MIN * BETA_MIN)).sqrt().sub(new Scalar(BETA_MIN)).div(new Scalar(BETA_D));
    }

    /** The four per-sample coefficients, each {@code [N]}. */
    public record Coefficients(Tensor cSkip, Tensor cOut, Tensor cIn, Tensor cNoise) {
    }
}
