package org.diffrep.extract;

import org.diffrep.Choice;

/**
 * How a feature map [C, H, W] becomes a stored row: its spatial mean [C]; the mean and the
 * spatial max (two files); or the whole map flattened [C*H*W].
 */
public enum Pooling implements Choice {
    MEAN("mean"), MEAN_MAX("mean+max"), NONE("none");

    private final String id;

    Pooling(String id) {
        this.id = id;
    }

    @Override
    public String id() {
        return id;
    }
}
