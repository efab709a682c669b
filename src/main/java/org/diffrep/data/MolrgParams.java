package org.diffrep.data;

import org.diffrep.InvalidInputException;

import java.util.Map;

/**
 * Parameters of a mixture of low-rank Gaussians (DESIGN.md, "Mathematics").
 *
 * @param n       ambient dimension (default 50)
 * @param d       dimension of each class subspace (default 5)
 * @param k       number of classes K (default 3); K*d must not exceed n
 * @param delta   scale of the off-subspace component, >= 0 (default 0.2)
 * @param samples number of samples N (default 12000)
 * @param seed    generator seed (default 0)
 */
public record MolrgParams(int n, int d, int k, double delta, int samples, long seed) {

    public static final MolrgParams DEFAULT = new MolrgParams(50, 5, 3, 0.2, 12000, 0);

    /** The largest ambient dimension n. */
    public static final int MAX_N = 16384;
    /** The largest total basis width K*d (the bases' Gram-Schmidt costs n (K d)^2). */
    public static final int MAX_BASIS = 1024;
    /** The most sample values, samples * n (1 GiB of float32). */
    public static final long MAX_ELEMENTS = 1L << 28;

    public MolrgParams {
        if (n < 1 || d < 1 || k < 2 || (long) k * d > n) {
            throw new InvalidInputException("molrg: expected n >= 1, d >= 1, K >= 2 and K*d <= n, got n=" + n + ", d=" + d + ", K=" + k);
        }
        if (n > MAX_N) {
            throw new InvalidInputException("molrg: field n: expected at most " + MAX_N + ", got " + n);
        }
        if ((long) k * d > MAX_BASIS) {
            throw new InvalidInputException("molrg: fields K and d: expected K*d at most " + MAX_BASIS + ", got K=" + k
                    + ", d=" + d + " (K*d=" + (long) k * d + ")");
        }
        if (!(delta >= 0) || !Double.isFinite(delta)) {
            throw new InvalidInputException("molrg: field delta: expected a finite number >= 0, got " + delta);
        }
        if (samples < 1) {
            throw new InvalidInputException("molrg: field samples: expected >= 1, got " + samples);
        }
        if ((long) samples * n > MAX_ELEMENTS) {
            throw new InvalidInputException("molrg: fields samples and n: expected samples*n at most " + MAX_ELEMENTS
                    + " values (1 GiB of float32), got samples=" + samples + ", n=" + n + " (" + (long) samples * n + ")");
        }
    }

    /**
     * Parses {@code n=50,d=5,K=3,delta=0.2,samples=12000,seed=0} (any subset, any order; the rest default).
     *
     * @throws InvalidInputException for an unknown key or a bad value
     */
    public static MolrgParams parse(String text) {
        Map<String, String> kv = DataSpec.options(text == null ? "" : text, "molrg:" + text, 0);
        int n = DEFAULT.n;
        int d = DEFAULT.d;
        int k = DEFAULT.k;
        double delta = DEFAULT.delta;
        int samples = DEFAULT.samples;
        long seed = DEFAULT.seed;
        for (Map.Entry<String, String> e : kv.entrySet()) {
            String v = e.getValue();
            switch (e.getKey()) {
                case "n" -> n = DataSpec.integer(v, "molrg field n", 1, MAX_N);
                case "d" -> d = DataSpec.integer(v, "molrg field d", 1, MAX_BASIS);
                case "K", "k" -> k = DataSpec.integer(v, "molrg field K", 2, MAX_BASIS);
                case "delta" -> delta = DataSpec.number(v, "molrg field delta", false);
                case "samples" -> samples = DataSpec.integer(v, "molrg field samples", 1, Integer.MAX_VALUE);
                case "seed" -> seed = (long) DataSpec.number(v, "molrg field seed", true);
                default -> throw new InvalidInputException("molrg:" + text + ": unknown field '" + e.getKey()
                        + "'; expected n, d, K, delta, samples, seed");
            }
        }
        return new MolrgParams(n, d, k, delta, samples, seed);
    }

    /** The spec text, {@code n=..,d=..,K=..,delta=..,samples=..,seed=..}. */
    public String toSpec() {
        return "n=" + n + ",d=" + d + ",K=" + k + ",delta=" + delta + ",samples=" + samples + ",seed=" + seed;
    }
}
