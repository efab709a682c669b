package org.diffrep.noise;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * A discrete variance-preserving (DDPM) schedule over integer steps t = 0..T-1, seen in EDM terms:
 * {@code alphabar_t = prod_{i<=t} (1 - beta_i)} and {@code sigma_t = sqrt((1 - alphabar_t) / alphabar_t)},
 * so that {@code x_t = sqrt(alphabar_t) x0 + sqrt(1 - alphabar_t) eps} equals {@code s * (x0 + sigma_t eps)}
 * with {@code s = 1/sqrt(1+sigma_t^2)} ({@link NoiseSchedule#vpInputScale}).
 * Between integer steps, log sigma is interpolated linearly, which keeps both maps continuous and
 * monotone; {@link #t(double)} inverts that interpolation by bisection over the table.
 *
 * <p>The one home of the VP time maps: besides the discrete tables, the continuous-time form of DDPM's
 * schedule ({@link #continuousTime}), which a VP network is conditioned on (model.Parametrisation.VP).
 */
public final class VpSchedule implements NoiseSchedule {

    /** DDPM's schedule, linear with T = 1000: the VP loss of train.Trainer and what VP networks are conditioned on. */
    public static final VpSchedule DDPM = linear(1000);

    /**
     * beta(u) = CONTINUOUS_BETA_MIN + CONTINUOUS_BETA_D u, u in [0, 1]: the continuous-time form of {@link #DDPM}
     * (Song et al. 2021): T beta_start = 0.1 and T (beta_end - beta_start) = 19.9.
     */
    public static final double CONTINUOUS_BETA_MIN = 0.1;
    /** See {@link #CONTINUOUS_BETA_MIN}. */
    public static final double CONTINUOUS_BETA_D = 19.9;

    private final String name;
    private final double[] sigmas;

    private VpSchedule(String name, double[] betas) {
        this.name = name;
        this.sigmas = new double[betas.length];
        double alphaBar = 1;
        for (int i = 0; i < betas.length; i++) {
            alphaBar *= 1 - betas[i];
            sigmas[i] = Math.sqrt((1 - alphaBar) / alphaBar);
        }
    }

    /** DDPM's linear schedule: beta from 1e-4 to 0.02 over T steps (T = 1000 in DDPM, 500 in the MoLRG experiment). */
    public static VpSchedule linear(int steps) {
        return linear(steps, 1e-4, 0.02);
    }

    /** Linear betas from betaStart to betaEnd over T steps. */
    public static VpSchedule linear(int steps, double betaStart, double betaEnd) {
        checkSteps(steps);
        if (!(betaStart > 0) || !(betaEnd >= betaStart) || !(betaEnd < 1)) {
            throw new IllegalArgumentException("VP linear schedule: expected 0 < beta_start <= beta_end < 1, got "
                    + betaStart + ", " + betaEnd);
        }
        double[] betas = new double[steps];
        for (int i = 0; i < steps; i++) {
            betas[i] = steps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * i / (steps - 1);
        }
        return new VpSchedule("vp-linear(T=" + steps + ")", betas);
    }

    /**
     * Nichol and Dhariwal's cosine schedule: {@code alphabar(t) = f(t)/f(0)}, {@code f(t) = cos^2(((t/T)+s)/(1+s) * pi/2)},
     * s = 0.008, betas clipped at 0.999; step i uses alphabar(i+1) as in their code.
     */
    public static VpSchedule cosine(int steps) {
        checkSteps(steps);
        double[] betas = new double[steps];
        for (int i = 0; i < steps; i++) {
            betas[i] = Math.min(1 - cosineF(i + 1, steps) / cosineF(i, steps), 0.999);
        }
        return new VpSchedule("vp-cosine(T=" + steps + ")", betas);
    }

    private static double cosineF(double t, int steps) {
        double s = 0.008;
        double c = Math.cos((t / steps + s) / (1 + s) * Math.PI / 2);
        return c * c;
    }

    private static void checkSteps(int steps) {
        if (steps < 2) {
            throw new IllegalArgumentException("VP schedule: expected T >= 2 steps, got " + steps);
        }
    }

    /**
     * Continuous VP time u in [0, 1] of noise levels {@code sigma} (any shape, element-wise, on sigma's device and in
     * its dtype): the inverse of {@code sigma(u) = sqrt(exp(CONTINUOUS_BETA_D u^2 / 2 + CONTINUOUS_BETA_MIN u) - 1)},
     * {@code u = (sqrt(beta_min^2 + 2 beta_d ln(1 + sigma^2)) - beta_min) / beta_d}. Times (T - 1) it lies
     * within a few steps of {@code DDPM.t(sigma)} over DDPM's range (0.9 steps at t = 0, 3.4 at t = 999): a
     * different map from the table's, kept because trained VP networks and their TorchScript exports
     * (tools/export_torchscript.py) are conditioned on it.
     */
    public static Tensor continuousTime(Tensor sigma) {
        Tensor l = sigma.mul(sigma).log1p().mul(new Scalar(2.0 * CONTINUOUS_BETA_D));
        return l.add(new Scalar(CONTINUOUS_BETA_MIN * CONTINUOUS_BETA_MIN)).sqrt().sub(new Scalar(CONTINUOUS_BETA_MIN))
                .div(new Scalar(CONTINUOUS_BETA_D));
    }

    /** The number of steps T. */
    public int steps() {
        return sigmas.length;
    }

    /** sigma at integer step t. */
    public double sigmaAtStep(int t) {
        return sigmas[t];
    }

    @Override
    public double sigma(double t) {
        double c = EdmSchedule.clamp(t, 0, sigmas.length - 1);
        int i = (int) Math.floor(c);
        if (i >= sigmas.length - 1) {
            return sigmas[sigmas.length - 1];
        }
        double f = c - i;
        return Math.exp((1 - f) * Math.log(sigmas[i]) + f * Math.log(sigmas[i + 1]));
    }

    @Override
    public double t(double sigma) {
        if (!(sigma > sigmas[0])) {
            return 0;
        }
        if (sigma >= sigmas[sigmas.length - 1]) {
            return sigmas.length - 1;
        }
        int lo = 0;
        int hi = sigmas.length - 1;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (sigmas[mid] <= sigma) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        double a = Math.log(sigmas[lo]);
        double b = Math.log(sigmas[hi]);
        return lo + (Math.log(sigma) - a) / (b - a);
    }

    @Override
    public double tMin() {
        return 0;
    }

    @Override
    public double tMax() {
        return sigmas.length - 1;
    }

    @Override
    public String toString() {
        return name;
    }
}
