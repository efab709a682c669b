package org.diffrep.model;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.noise.VpSchedule;

/**
 * How a network F is wrapped into an EDM denoiser {@code D(x; sigma) = c_skip x + c_out F(c_in x; c_noise)}.
 *
 * <ul>
 *   <li>{@link #EDM}: Karras et al. (2022) with sigma_data = 0.5 (data scaled to [-1, 1]);
 *       c_noise = ln(sigma) / 4.</li>
 *   <li>{@link #VP}: a DDPM noise-prediction network on the VP linear schedule (beta 1e-4 to 0.02,
 *       T = 1000; {@link VpSchedule#DDPM}). It sees {@code s * x} with {@code s = 1/sqrt(1+sigma^2)}, is
 *       conditioned on the continuous timestep {@code (T-1) t(sigma)} ({@link VpSchedule#continuousTime}),
 *       and predicts eps, so D = x - sigma * F.</li>
 * </ul>
 */
public enum Parametrisation {
    EDM, VP;

    public static final double SIGMA_DATA = 0.5;

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
        Tensor cNoise = VpSchedule.continuousTime(sigma).mul(new Scalar(VpSchedule.DDPM.steps() - 1));
        return new Coefficients(cSkip, cOut, cIn, cNoise);
    }

    /** The four per-sample coefficients, each {@code [N]}. */
    public record Coefficients(Tensor cSkip, Tensor cOut, Tensor cIn, Tensor cNoise) {
    }
}
