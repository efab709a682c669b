package org.diffrep.analysis;

import org.diffrep.InvalidInputException;

/**
 * Settings of a k-means run. Build with {@link #builder}: the defaults are its field initialisers,
 * also readable as {@link #DEFAULTS}; the record's constructor validates.
 *
 * @param k        number of clusters, 1 <= k <= N (default 8, as scikit-learn; {@code diffrep cluster}
 *                 requires it)
 * @param nInit    independent k-means++ starts; the one with the lowest inertia wins (default 10)
 * @param maxIter  Lloyd iterations per start at most (default 300)
 * @param tol      convergence tolerance, relative to the mean per-feature variance of the data, on the
 *                 summed squared centroid shift of one iteration (default 1e-4, as scikit-learn)
 * @param seed     seed of the seeding; start i uses a stream split deterministically from it (default 0)
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

    /** Every field at its default. */
    public static final KMeansConfig DEFAULTS = builder().build();

    /** The defaults with {@code k} clusters: 10 starts, 300 iterations, tolerance 1e-4, seed 0. */
    public static KMeansConfig of(int k) {
        return builder().k(k).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        return new Builder().k(k).nInit(nInit).maxIter(maxIter).tol(tol).seed(seed);
    }

    /** The fields with their defaults; every setter returns the builder; the record's constructor validates. */
    public static final class Builder {
        private int k = 8;
        private int nInit = 10;
        private int maxIter = 300;
        private double tol = 1e-4;
        private long seed = 0;

        public Builder k(int v) { k = v; return this; }
        public Builder nInit(int v) { nInit = v; return this; }
        public Builder maxIter(int v) { maxIter = v; return this; }
        public Builder tol(double v) { tol = v; return this; }
        public Builder seed(long v) { seed = v; return this; }

        public KMeansConfig build() {
            return new KMeansConfig(k, nInit, maxIter, tol, seed);
        }
    }
}
