package org.diffrep.train;

import org.bytedeco.pytorch.Tensor;

/** What training reads: images by index, float32 in [-1, 1], shape [n, shape...]. */
public interface ImageSource {

    /** Number of images. */
    long size();

    /** One image's shape, e.g. [1, 28, 28]. */
    long[] shape();

    /** The images at {@code indices}, stacked: [indices.length, shape...]. */
    Tensor images(long[] indices);

    /** Where the images came from, for provenance ({@link org.diffrep.data.Dataset#source}); null when unknown. */
    default String source() {
        return null;
    }
}
