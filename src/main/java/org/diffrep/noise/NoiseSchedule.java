package org.diffrep.noise;

/**
 * A map between a model's time variable t and the EDM noise level sigma ({@code x_sigma = x0 + sigma * eps}).
 * Both directions are monotone increasing: more t, more noise. Implementations are immutable.
 */
public interface NoiseSchedule {

    /** Noise level at time t (t in [{@link #tMin()}, {@link #tMax()}]). */
    double sigma(double t);

    /** Time of noise level sigma, the inverse of {@link #sigma(double)}; sigma outside the range is clamped to it. */
    double t(double sigma);

    double tMin();

    double tMax();

    /** The smallest noise level, {@code sigma(tMin())}. */
    default double sigmaMin() {
        return sigma(tMin());
    }

    /** The largest noise level, {@code sigma(tMax())}. */
    default double sigmaMax() {
        return sigma(tMax());
    }

    /** The scale a VP model applies to its input, {@code s = 1/sqrt(1 + sigma^2)} (DESIGN.md). */
    static double vpInputScale(double sigma) {
        return 1.0 / Math.sqrt(1.0 + sigma * sigma);
    }
}
