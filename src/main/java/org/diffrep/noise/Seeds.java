package org.diffrep.noise;

/**
 * Independent seeds derived deterministically from one user seed, so that each random stream of a
 * run (split, label noise, basis, samples, ...) repeats exactly and does not overlap the others.
 */
public final class Seeds {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private Seeds() {
    }

    /**
     * The seed of stream {@code stream} under {@code seed}: the splitmix64 finaliser applied to the
     * mixed seed advanced by {@code stream + 1} golden-ratio steps. Different streams of one seed, and
     * the same stream of different seeds, give unrelated values.
     */
    public static long derive(long seed, long stream) {
        return mix64(mix64(seed) + GOLDEN * (stream + 1));
    }

    /** The splitmix64 finaliser (Steele, Lea, Flood 2014): a bijection of 64-bit values with strong mixing. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
