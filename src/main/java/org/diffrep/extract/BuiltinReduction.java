package org.diffrep.extract;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.ops.Kernels;

import java.util.List;

/**
 * The built-in reductions, one per {@link Pooling}: {@code mean} (spatial means [C]),
 * {@code mean+max} (the means; the extractor also stores the spatial maxima beside them) and
 * {@code none} (the whole map flattened [C*H*W]). {@link #reduce} gives the row stored in
 * {@code features/}; the extractor runs the native pool (and fused top-k) kernels itself for
 * these, so their stores keep the layout and bytes they always had.
 */
public record BuiltinReduction(Pooling pooling) implements FeatureReduction {

    @Override
    public String name() {
        return pooling.id();
    }

    @Override
    public long rowLength(List<Long> mapShape) {
        if (pooling != Pooling.NONE) {
            return mapShape.get(0);
        }
        long flat = 1;
        for (long d : mapShape) {
            flat *= d;
        }
        return flat;
    }

    @Override
    public Tensor reduce(Tensor maps) {
        long rows = maps.size(0);
        if (pooling == Pooling.NONE) {
            return maps.reshape(rows, -1).clone();
        }
        Tensor m = maps.dim() == 2 ? maps.reshape(rows, maps.size(1), 1) : maps;
        return Kernels.pool(m, false, false, 0f).mean();
    }
}
