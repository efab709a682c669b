package org.diffrep.extract;

import org.diffrep.Choice;

import java.util.Locale;

/** Which images of the deterministic train/test split an extraction takes. */
public enum SplitSelection implements Choice {
    TRAIN, TEST, ALL;

    @Override
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    boolean takes(boolean isTrain) {
        return this == ALL || (this == TRAIN) == isTrain;
    }
}
