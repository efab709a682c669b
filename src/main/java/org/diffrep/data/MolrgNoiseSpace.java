package org.diffrep.data;

import org.diffrep.InvalidInputException;

import java.util.Locale;

/**
 * Where a MoLRG sample of class k puts its small (delta-scaled) component: in the span of the other
 * classes' bases, {@code Ut_k = [U_l for l != k]} (the research's construction, the default), or in the
 * whole orthogonal complement of {@code U_k} (Assumption 1 read literally).
 */
public enum MolrgNoiseSpace {
    /** delta * Ut_k e, e ~ N(0, I_(K-1)d): the span of the other classes' bases. */
    OTHERS,
    /** delta * (I - U_k U_k^T) e, e ~ N(0, I_n): the orthogonal complement of U_k. */
    COMPLEMENT;

    /** The command-line name: {@code others} or {@code complement}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code others} or {@code complement} (any case); {@code field} names the option in the error. */
    public static MolrgNoiseSpace parse(String text, String field) {
        for (MolrgNoiseSpace s : values()) {
            if (s.id().equalsIgnoreCase(text == null ? "" : text.trim())) {
                return s;
            }
        }
        throw InvalidInputException.fields("{" + field + "}: expected others or complement, got '" + text + "'", field);
    }
}
