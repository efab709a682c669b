package org.diffrep.train;

/**
 * The discrete DDPM linear schedule used by VP training: beta_t linear from 1e-4 to 0.02 over T = 1000
 * steps, alpha_bar_t = prod (1 - beta_i), and its EDM noise level sigma_t = sqrt(1/alpha_bar_t - 1).
 */
final class VpSchedule {

    static final int T = 1000;
    private static final double[] SIGMA = new double[T + 1];

    static {
        double abar = 1;
        for (int t = 1; t <= T; t++) {
            double beta = 1e-4 + (0.02 - 1e-4) * (t - 1) / (T - 1);
            abar *= 1 - beta;
            SIGMA[t] = Math.sqrt(1 / abar - 1);
        }
    }

    private VpSchedule() {
    }

    /** sigma of timestep t in 1..T. */
    static double sigma(int t) {
        return SIGMA[t];
    }
}
