package org.diffrep;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A setting that takes one of a few named values: an enum whose constants are spelt on the command
 * line, in manifests and in reports by {@link #id}, e.g. {@code mean+max} for {@code MEAN_MAX}.
 * Enums that do not implement it are spelt by {@link #idOf}: the constant's name in lower case with
 * '-' for '_' ({@code BN_LINEAR} is {@code bn-linear}).
 */
public interface Choice {

    /** How the value is spelt. */
    String id();

    /** The spelling of any enum constant: its {@link #id} or its lower-case, kebab-case name. */
    static String idOf(Enum<?> value) {
        return value instanceof Choice c ? c.id() : value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The spellings of every constant of {@code type}, in declaration order. */
    static <E extends Enum<E>> List<String> ids(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(Choice::idOf).toList();
    }

    /**
     * The constant of {@code type} spelt {@code text} (surrounding blanks and case ignored; the
     * constant's Java name is accepted too).
     *
     * @throws InvalidInputException "expected one of [a, b, c], got 'x'"
     */
    static <E extends Enum<E>> E parse(Class<E> type, String text) {
        String t = text == null ? "" : text.strip();
        for (E e : type.getEnumConstants()) {
            if (idOf(e).equalsIgnoreCase(t) || e.name().equalsIgnoreCase(t)) {
                return e;
            }
        }
        throw new InvalidInputException("expected one of " + ids(type) + ", got '" + text + "'");
    }
}
