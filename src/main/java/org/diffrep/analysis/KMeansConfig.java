package org.diffrep.analysis;

import org.diffrep.InvalidInputException;

/**
 * Settings of a k-means run.
 *
 * @param k        number of clusters (1 <= k <= N)
 * @param nInit    independent k-means++ starts; the one with the lowest inertia wins (default 10)
 * @param maxIter  Lloyd iterations per start at most (default 300)
 * @param tol      convergence tolerance, relative to the mean per-feature variance of the data, on the
 *                 summed squared centroid shift of one iteration (default 1e-4, as scikit-learn)
 * @param seed     seed of the seeding; start i uses a stream split deterministically from it
 */
public record KMeansConfig(int k, int nInit, int maxIter, double tol, long seed) {

    public KMeansConfig {
        if (k < 1) {
            throw InvalidInputException.field("k", "must be >= 1, got " + k);
        }
        if (nInit < 1) {
            throw InvalidInputException.field("nInit", "must be >= 1, got " + nInit);
        }
        if (maxIter < 1) {
            throw InvalidInputException.field("maxIter", "must be >= 1, got " + maxIter);
        }
        if (!(tol >= 0) || Double.isInfinite(tol)) {
            throw InvalidInputException.field("tol", "must be a finite number >= 0, got " + tol);
        }
    }

    /** Defaults: 10 starts, 300 iterations, tolerance 1e-4, seed 0. */
    public static KMeansConfig of(int k) {
        return new KMeansConfig(k, 10, 300, 1e-4, 0L);
    }
}
