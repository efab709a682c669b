package org.diffrep.extract;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Concatenated taps: a layer named {@code enc.1+mid+dec.0} is stored as one feature matrix whose row is the pooled
 * rows of its parts side by side, in the order named (mean: [C1 + C2 + C3]; mean+max: the means and, in the max file,
 * the maxima; none: the flattened maps). Parts may have different spatial sizes, since each is pooled first. Analyses
 * read it like any layer.
 */
public final class ConcatTaps {

    private ConcatTaps() {
    }

    /** The parts of a layer name: {@code [enc.1, mid, dec.0]} for {@code enc.1+mid+dec.0}, {@code [mid]} for {@code mid}. */
    public static List<String> parts(String layer) {
        return Arrays.asList(layer.split("\\+", -1));
    }

    /** Whether the layer name joins several taps. */
    public static boolean isConcat(String layer) {
        return layer.indexOf('+') >= 0;
    }

    /** The model taps a forward must return for these layers: every part, in first-named order. */
    public static Set<String> forwardTaps(List<String> layers) {
        Set<String> out = new LinkedHashSet<>();
        for (String l : layers) {
            out.addAll(parts(l));
        }
        return out;
    }
}
