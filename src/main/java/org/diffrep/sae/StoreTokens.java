package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

import java.util.Arrays;
import java.util.Random;

/**
 * Tokens of a store written with {@code --pool none}: row i of the memory-mapped [N, C*H*W] array is image i's
 * map, channel-major, so token (i, p) is the C values {@code i*C*HW + c*HW + p}. A batch is one {@code take}
 * of B*C values at random (image, position) pairs: no store of all tokens, no copy of whole maps. The order is
 * a permutation of all tokens of the chosen images, reshuffled each pass, so a batch mixes tokens of about B images.
 */
public final class StoreTokens implements TokenRows {

    private final Tensor flat;
    private final long[] images;
    private final int[] shape;
    private final String source;
    private final Tensor features;

    /**
     * @param features [N, C*H*W] float32 (the mapped array)
     * @param images   the rows (images) whose tokens these are
     * @param shape    {C, H, W} of one map
     */
    public StoreTokens(Tensor features, long[] images, int[] shape, String source) {
        if (features.dim() != 2 || features.size(1) != (long) shape[0] * shape[1] * shape[2]) {
            throw new InvalidInputException(source + ": rows of " + (features.dim() == 2 ? features.size(1) : -1)
                    + " values are not maps of shape " + Arrays.toString(shape));
        }
        this.features = features;
        this.flat = features.reshape(-1);
        this.images = images.clone();
        this.shape = shape.clone();
        this.source = source;
    }

    @Override
    public int[] mapShape() {
        return shape.clone();
    }

    @Override
    public long[] images() {
        return images.clone();
    }

    @Override
    public String source() {
        return source;
    }

    /** Tokens {@code tokens[from .. from+n)} (ids over {@link #images} x positions) as [n, C]. */
    private Tensor tokens(long[] tokens, int from, int n) {
        int hw = positions(), c = shape[0];
        long[] base = new long[n];
        for (int r = 0; r < n; r++) {
            long t = tokens[from + r];
            base[r] = images[(int) (t / hw)] * c * hw + t % hw;
        }
        Tensor offsets = torch.arange(new Scalar(0), new Scalar((long) c * hw), new Scalar(hw), Tensors.fromLongs(base).options());
        Tensor idx = Tensors.fromLongs(base).unsqueeze(1).add(offsets.unsqueeze(0));
        return flat.take(idx).contiguous();
    }

    @Override
    public Tensor sample(int max, Random rng) {
        long total = count();
        long[] pick;
        if (total <= max) {
            pick = java.util.stream.LongStream.range(0, total).toArray();
        } else {
            // with replacement: a permutation of every token would cost O(tokens) just for a sample
            pick = new long[max];
            for (int i = 0; i < max; i++) {
                pick[i] = Math.floorMod(rng.nextLong(), total);
            }
        }
        return tokens(pick, 0, pick.length);
    }

    @Override
    public Cursor cursor() {
        long total = count();
        if (total > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(source + ": " + total + " tokens; at most " + (Integer.MAX_VALUE - 8)
                    + " per SAE training (use fewer images)");
        }
        long[] order = java.util.stream.LongStream.range(0, total).toArray();
        return SaeRows.shuffledEpochs(order, (o, from, n) -> tokens(o, from, n));
    }

    @Override
    public void scanImages(int batch, ImageBatch each) {
        int hw = positions(), c = shape[0];
        for (int s = 0; s < images.length; s += batch) {
            try (PointerScope scope = new PointerScope()) {
                int n = Math.min(batch, images.length - s);
                Tensor maps = RowBatches.rows(features, images, s, n).reshape(n, c, hw);
                each.accept(s, maps.transpose(1, 2).contiguous());
            }
        }
    }

    @Override
    public void requireFinite() {
        RowBatches.requireFinite(features, source);
    }
}
