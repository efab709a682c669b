package org.diffrep.sae;

import org.bytedeco.pytorch.Tensor;

/**
 * Tokens of a tap: each spatial position of an image's feature map [C, H, W] is one row of its C channels,
 * so an image gives H*W rows. Token t is position {@code t % (H*W)} of image {@code t / (H*W)} (images in the
 * order of {@link #images}); training batches mix tokens of many images.
 */
public interface TokenRows extends SaeRows {

    /** The tap's map shape {C, H, W}. */
    int[] mapShape();

    /** H*W tokens per image. */
    default int positions() {
        return mapShape()[1] * mapShape()[2];
    }

    /** The images, as rows of the store the tokens come from (or dataset indices when streamed from a model). */
    long[] images();

    @Override
    default int width() {
        return mapShape()[0];
    }

    @Override
    default long count() {
        return (long) images().length * positions();
    }

    /**
     * Every image once, in order, at most {@code images} at a time: {@code each} gets the rank of the batch's
     * first image and its tokens [b, H*W, C] (position-major, row y*W + x).
     */
    void scanImages(int images, ImageBatch each);

    @Override
    default void scan(int batch, java.util.function.Consumer<Tensor> each) {
        scanImages(Math.max(1, batch / positions()), (first, tokens) -> each.accept(tokens.reshape(-1, width())));
    }

    /** Receives one batch of images' tokens. */
    interface ImageBatch {
        void accept(int firstImage, Tensor tokens);
    }
}
