package org.diffrep.extract;

import org.diffrep.InvalidInputException;

import java.util.Locale;

/** Which images of the deterministic train/test split an extraction takes. */
public enum SplitSelection {
    TRAIN, TEST, ALL;

    public static SplitSelection parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw InvalidInputException.field("split", ": '" + s + "' is not one of train, test, all");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    boolean takes(boolean isTrain) {
        return this == ALL || (this == TRAIN) == isTrain;
    }
}
