package org.diffrep.extract;

import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * A Java reduction for the tests, registered in src/test/resources/META-INF/services: the mean
 * of the squares of each channel over its positions, [B, C, H, W] -> [B, C], in LibTorch ops.
 */
public final class SquareMeanReduction implements FeatureReduction {

    public static final String NAME = "test-square-mean";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public long rowLength(List<Long> mapShape) {
        return mapShape.get(0);
    }

    @Override
    public Tensor reduce(Tensor maps) {
        return maps.mul(maps).reshape(maps.size(0), maps.size(1), -1).mean(new long[]{2}, false, null);
    }
}
