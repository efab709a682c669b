package org.diffrep.train;

import org.bytedeco.pytorch.Tensor;

import org.diffrep.data.Dataset;

/** A subset of a {@link Dataset} (e.g. its training split) as an {@link ImageSource}. */
public final class DatasetImages implements ImageSource {

    private final Dataset data;
    private final int[] indices;

    /** The samples {@code indices} of {@code data}, in that order. */
    public DatasetImages(Dataset data, int[] indices) {
        this.data = data;
        this.indices = indices.clone();
    }

    @Override
    public long size() {
        return indices.length;
    }

    @Override
    public long[] shape() {
        int[] s = data.imageShape();
        return new long[]{s[0], s[1], s[2]};
    }

    /** The dataset's {@link Dataset#source}. */
    @Override
    public String source() {
        return data.source();
    }

    @Override
    public Tensor images(long[] which) {
        long[] mapped = new long[which.length];
        for (int i = 0; i < which.length; i++) {
            mapped[i] = indices[(int) which[i]];
        }
        return data.batch(mapped).images();
    }
}
