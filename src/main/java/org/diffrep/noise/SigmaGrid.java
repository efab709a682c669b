package org.diffrep.noise;

import org.diffrep.InvalidInputException;

import java.util.Arrays;

/**
 * The noise levels at which features are read, strictly ascending and positive. Index i of the grid is
 * the {@code sigma_<i>} of the feature store and the sigma index of the noise kernel.
 */
public record SigmaGrid(double[] sigmas) {

    /**
     * The default grid: {@code log:0.002,80,16} written out to 3 significant digits, 16 levels over EDM's whole
     * range (0.002 to 80), one level per doubling of sigma. EDM's range so that a peak of probe accuracy, if there
     * is one, lies inside the grid (on MNIST the clean-input curve still rose at 3.26, the top of the old 10-level
     * grid); a doubling per level keeps the resolution of the old grid where accuracy changes (0.1-3) and puts the
     * ensemble's 5 neighbouring levels within a factor 16 of sigma. Written out so that commands can quote its
     * values ({@code --sigma 0.281}).
     */
    public static final String DEFAULT_SPEC =
            "0.002,0.00405,0.00822,0.0167,0.0337,0.0684,0.139,0.281,0.569,1.15,2.34,4.74,9.61,19.5,39.5,80";

    /**
     * The most levels a grid may have: each is a file per layer in a feature store and a forward per image, so
     * a longer grid is a typing error, not a study.
     */
    public static final int MAX_LEVELS = 1000;

    public SigmaGrid {
        sigmas = sigmas.clone();
        if (sigmas.length == 0) {
            throw new InvalidInputException("sigma grid: expected at least one sigma, got none");
        }
        if (sigmas.length > MAX_LEVELS) {
            throw new InvalidInputException("sigma grid: expected at most " + MAX_LEVELS + " levels, got " + sigmas.length);
        }
        for (int i = 0; i < sigmas.length; i++) {
            if (!(sigmas[i] > 0) || !Double.isFinite(sigmas[i])) {
                throw new InvalidInputException("sigma grid: sigma[" + i + "] must be a positive finite number, got " + sigmas[i]);
            }
            if (i > 0 && !(sigmas[i] > sigmas[i - 1])) {
                throw new InvalidInputException("sigma grid: sigmas must be strictly ascending, got sigma[" + (i - 1) + "]="
                        + sigmas[i - 1] + " then sigma[" + i + "]=" + sigmas[i]);
            }
        }
    }

    /** The default grid ({@link #DEFAULT_SPEC}). */
    public static SigmaGrid defaults() {
        return parse(DEFAULT_SPEC);
    }

    /**
     * Parses a grid spec: a list {@code 0.1,0.5,1}; {@code edm:N} (N EDM levels from 0.002 to 80, rho 7) or
     * {@code edm:N,MIN,MAX}; {@code log:MIN,MAX,N} (N geometrically spaced levels, both ends included).
     *
     * @throws InvalidInputException naming the part of the text that is wrong and what was expected
     */
    public static SigmaGrid parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw InvalidInputException.field("sigmas", ": expected a list like 0.1,0.5,1 or edm:N or log:MIN,MAX,N, got nothing");
        }
        String s = spec.strip();
        if (s.startsWith("edm:")) {
            String[] p = s.substring(4).split(",");
            if (p.length != 1 && p.length != 3) {
                throw InvalidInputException.field("sigmas", abbreviate(spec) + ": expected edm:N or edm:N,MIN,MAX");
            }
            int n = parseCount(p[0], spec);
            double lo = p.length == 3 ? parseNumber(p[1], spec) : EdmSchedule.DEFAULT.sigmaMin();
            double hi = p.length == 3 ? parseNumber(p[2], spec) : EdmSchedule.DEFAULT.sigmaMax();
            checkRange(lo, hi, spec);
            return new SigmaGrid(new EdmSchedule(lo, hi, EdmSchedule.DEFAULT.rho()).levels(n));
        }
        if (s.startsWith("log:")) {
            String[] p = s.substring(4).split(",");
            if (p.length != 3) {
                throw InvalidInputException.field("sigmas", abbreviate(spec) + ": expected log:MIN,MAX,N");
            }
            double lo = parseNumber(p[0], spec);
            double hi = parseNumber(p[1], spec);
            int n = parseCount(p[2], spec);
            checkRange(lo, hi, spec);
            double[] out = new double[n];
            for (int i = 0; i < n; i++) {
                out[i] = Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * i / (n - 1));
            }
            out[0] = lo;
            out[n - 1] = hi;
            return new SigmaGrid(out);
        }
        String[] p = s.split(",", MAX_LEVELS + 2);
        if (p.length > MAX_LEVELS) {
            throw InvalidInputException.field("sigmas", abbreviate(spec) + ": expected at most " + MAX_LEVELS
                    + " levels, got more");
        }
        double[] out = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = parseNumber(p[i], spec);
        }
        try {
            return new SigmaGrid(out);
        } catch (InvalidInputException e) {
            throw InvalidInputException.field("sigmas", abbreviate(spec) + ": " + e.getMessage(), e);
        }
    }

    private static double parseNumber(String text, String spec) {
        try {
            return Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw InvalidInputException.field("sigmas", abbreviate(spec) + ": expected a number, got '" + text.strip() + "'");
        }
    }

    private static int parseCount(String text, String spec) {
        long n;
        try {
            n = Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw InvalidInputException.field("sigmas", abbreviate(spec) + ": expected an integer count N in 2.." + MAX_LEVELS
                    + ", got '" + text.strip() + "'");
        }
        if (n < 2 || n > MAX_LEVELS) {
            throw InvalidInputException.field("sigmas", abbreviate(spec) + ": expected N >= 2 levels (at most " + MAX_LEVELS + "), got " + n);
        }
        return (int) n;
    }

    private static String abbreviate(String spec) {
        return spec.length() <= 60 ? spec : spec.substring(0, 60) + "...";
    }

    private static void checkRange(double lo, double hi, String spec) {
        if (!(lo > 0) || !(hi > lo) || !Double.isFinite(hi)) {
            throw InvalidInputException.field("sigmas", abbreviate(spec) + ": expected 0 < MIN < MAX, got MIN=" + lo + ", MAX=" + hi);
        }
    }

    /** The number of levels. */
    public int size() {
        return sigmas.length;
    }

    /** Level i. */
    public double sigma(int i) {
        return sigmas[i];
    }

    /** A copy of the levels. */
    @Override
    public double[] sigmas() {
        return sigmas.clone();
    }

    /** The VP input scales {@code 1/sqrt(1+sigma^2)} of the levels, for the noise kernel's scale argument. */
    public double[] vpInputScales() {
        double[] out = new double[sigmas.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = NoiseSchedule.vpInputScale(sigmas[i]);
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SigmaGrid g && Arrays.equals(sigmas, g.sigmas);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sigmas);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (double s : sigmas) {
            b.append(b.length() == 0 ? "" : ",").append(s);
        }
        return b.toString();
    }
}
