package org.diffrep.extract;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.List;

/** A faulty Java reduction for the tests: declares C columns and returns C + 1. */
public final class WrongShapeReduction implements FeatureReduction {

    @Override
    public String name() {
        return "test-wrong-shape";
    }

    @Override
    public long rowLength(List<Long> mapShape) {
        return mapShape.get(0);
    }

    @Override
    public Tensor reduce(Tensor maps) {
        return torch.zeros(new long[]{maps.size(0), maps.size(1) + 1}, maps.options());
    }
}
