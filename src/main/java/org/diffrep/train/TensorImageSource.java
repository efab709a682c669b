package org.diffrep.train;

import java.util.Arrays;

import org.bytedeco.pytorch.Tensor;

import org.diffrep.ops.Tensors;

/** Images held in one tensor [N, shape...] (small sets, tests, MoLRG samples). */
public final class TensorImageSource implements ImageSource {

    private final Tensor all;

    public TensorImageSource(Tensor all) {
        if (all.dim() < 2) {
            throw new IllegalArgumentException("image tensor needs shape [N, ...], got " + Arrays.toString(Tensors.shape(all)));
        }
        this.all = all;
    }

    @Override
    public long size() {
        return all.size(0);
    }

    @Override
    public long[] shape() {
        long[] s = Tensors.shape(all);
        return Arrays.copyOfRange(s, 1, s.length);
    }

    @Override
    public Tensor images(long[] indices) {
        return all.index_select(0, Tensors.fromLongs(indices));
    }
}
