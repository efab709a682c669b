package org.diffrep.noise;

/**
 * The EDM (Karras et al. 2022) schedule: {@code sigma(t) = (smin^(1/rho) + t (smax^(1/rho) - smin^(1/rho)))^rho}
 * for t in [0, 1], so t = 0 is sigma_min and t = 1 sigma_max; the inverse is in closed form.
 *
 * @param sigmaMin smallest noise level, > 0 (EDM default 0.002)
 * @param sigmaMax largest noise level, > sigmaMin (EDM default 80)
 * @param rho      curvature, > 0 (EDM default 7)
 */
public record EdmSchedule(double sigmaMin, double sigmaMax, double rho) implements NoiseSchedule {

    /** EDM's defaults: sigma from 0.002 to 80, rho = 7. */
    public static final EdmSchedule DEFAULT = new EdmSchedule(0.002, 80, 7);

    public EdmSchedule {
        if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !Double.isFinite(sigmaMax) || !(rho > 0) || !Double.isFinite(rho)) {
            throw new IllegalArgumentException("EDM schedule: expected 0 < sigma_min < sigma_max and rho > 0, got sigma_min="
                    + sigmaMin + ", sigma_max=" + sigmaMax + ", rho=" + rho);
        }
    }

    @Override
    public double sigma(double t) {
        double a = Math.pow(sigmaMin, 1 / rho);
        double b = Math.pow(sigmaMax, 1 / rho);
        return Math.pow(a + clamp(t, 0, 1) * (b - a), rho);
    }

    @Override
    public double t(double sigma) {
        double a = Math.pow(sigmaMin, 1 / rho);
        double b = Math.pow(sigmaMax, 1 / rho);
        double s = clamp(sigma, sigmaMin, sigmaMax);
        return clamp((Math.pow(s, 1 / rho) - a) / (b - a), 0, 1);
    }

    @Override
    public double tMin() {
        return 0;
    }

    @Override
    public double tMax() {
        return 1;
    }

    /** n noise levels evenly spaced in t, ascending from sigma_min to sigma_max (n >= 2). */
    public double[] levels(int n) {
        if (n < 2) {
            throw new IllegalArgumentException("EDM levels: expected n >= 2, got " + n);
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = sigma((double) i / (n - 1));
        }
        out[0] = sigmaMin;
        out[n - 1] = sigmaMax;
        return out;
    }

    static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
