package org.diffrep.extract;

import org.diffrep.InvalidInputException;

/**
 * How a feature map [C, H, W] becomes a stored row: its spatial mean [C]; the mean and the
 * spatial max (two files); or the whole map flattened [C*H*W].
 */
public enum Pooling {
    MEAN("mean"), MEAN_MAX("mean+max"), NONE("none");

    private final String id;

    Pooling(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static Pooling parse(String s) {
        for (Pooling p : values()) {
            if (p.id.equals(s.trim())) {
                return p;
            }
        }
        throw InvalidInputException.field("pool", ": '" + s + "' is not one of mean, mean+max, none");
    }
}
