package org.diffrep.data;

import org.bytedeco.pytorch.Tensor;

/**
 * One batch of a {@link Dataset}.
 *
 * @param images  float32 [n, C, H, W] (pixel data in [-1, 1])
 * @param labels  int64 [n]
 * @param indices the dataset indices of the n samples, in batch order
 */
public record Batch(Tensor images, Tensor labels, long[] indices) {
}
