package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.extract.BatchFeatures;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Pooling;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Tokens of a tap streamed from a model: images are read from the dataset and run through the network
 * (clean input conditioned on sigma, the extraction engine's {@link BatchFeatures} with {@code pool none}, so
 * tokens equal those of a {@code --pool none} store), and no store of all tokens exists. Training batches come
 * from a shuffle buffer of the tokens of {@code bufferImages} images: filled, shuffled, half served, the served
 * half refilled from the next images (in a per-pass permutation) and the whole reshuffled; so a batch mixes
 * tokens of hundreds of images, deterministically for a seed.
 */
public final class ModelTokens implements TokenRows {

    private final Denoiser model;
    private final Dataset data;
    private final String layer;
    private final long[] images;
    private final int[] shape;
    private final int imageBatch;
    private final int bufferImages;
    private final String source;
    private final BatchFeatures engine;

    private ModelTokens(Denoiser model, Dataset data, String layer, float sigma, long[] images, int[] shape,
                        int imageBatch, int bufferImages, String source) {
        this.model = model;
        this.data = data;
        this.layer = layer;
        this.images = images.clone();
        this.shape = shape;
        this.imageBatch = imageBatch;
        this.bufferImages = bufferImages;
        this.source = source;
        // out is required by the config but unused: BatchFeatures writes nothing
        this.engine = new BatchFeatures(ExtractConfig.builder().layers(List.of(layer)).sigmas(sigma)
                .pool(Pooling.NONE).batch(imageBatch).forwardRows(imageBatch).out(Path.of("unused")).build());
    }

    /**
     * Tokens of {@code layer} at {@code sigma} for the dataset indices {@code images}; one forward of one image
     * finds the map shape (a tap without spatial extent is refused).
     *
     * @param imageBatch   images per forward
     * @param bufferImages images whose tokens the shuffle buffer holds
     */
    public static ModelTokens open(Denoiser model, Dataset data, String layer, float sigma, long[] images,
                                   int imageBatch, int bufferImages, String source) {
        if (!model.taps().contains(layer)) {
            throw InvalidInputException.field("layer", layer + ": the model has no such tap; it has " + model.taps());
        }
        if (imageBatch < 1 || bufferImages < 1) {
            throw InvalidInputException.fields("{batch} and {bufferImages} must be >= 1, got " + imageBatch + " and "
                    + bufferImages, "batch", "bufferImages");
        }
        if (images.length < 1) {
            throw InvalidInputException.field("data", data.source() + ": no images to take tokens from");
        }
        long[] s;
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor x = data.batch(new long[]{images[0]}).images();
            Tensor tap = model.forward(x, Tensors.fromFloats(new float[]{sigma}), java.util.Set.of(layer), false)
                    .taps().get(layer);
            s = Tensors.shape(tap);
        }
        if (s.length != 4) {
            throw InvalidInputException.field("layer", layer + ": the tap's output has shape " + Arrays.toString(s)
                    + "; tokens need a map [C, H, W]");
        }
        return new ModelTokens(model, data, layer, sigma, images, new int[]{(int) s[1], (int) s[2], (int) s[3]},
                imageBatch, bufferImages, source);
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

    /** Tokens [n, H*W, C] of the given dataset indices (one or more forwards of at most imageBatch images). */
    private Tensor forward(long[] ids) {
        int hw = positions(), c = shape[0];
        TensorVector parts = new TensorVector();
        try (NoGradGuard g = new NoGradGuard()) {
            for (int s = 0; s < ids.length; s += imageBatch) {
                long[] part = Arrays.copyOfRange(ids, s, Math.min(ids.length, s + imageBatch));
                Tensor maps = engine.pooled(model, data.batch(part).images(), part, 0).get(layer)[2];
                Tensor tok = maps.reshape(part.length, c, hw).transpose(1, 2).contiguous();
                if (!org.diffrep.model.Finite.all(tok)) {
                    throw new InvalidInputException(source + ": the tokens of images " + part[0] + ".." + part[part.length - 1]
                            + " hold NaN or infinite values; the SAE needs finite features");
                }
                parts.push_back(tok);
            }
        }
        return parts.size() == 1 ? parts.get(0) : torch.cat(parts, 0);
    }

    @Override
    public Tensor sample(int max, Random rng) {
        int hw = positions();
        long[] order = images.clone();
        int need = (int) Math.min(order.length, ((long) max + hw - 1) / hw);
        if (need < order.length) {
            SaeRows.shuffle(order, rng);
        }
        Tensor t = forward(Arrays.copyOf(order, need)).reshape(-1, shape[0]);
        return t.size(0) > max ? t.narrow(0, 0, max).contiguous() : t;
    }

    @Override
    public Cursor cursor() {
        return new Buffer();
    }

    /** The shuffle buffer of one training run. */
    private final class Buffer implements Cursor {
        private final long[] order = images.clone();
        private int nextImage = order.length;
        private Tensor buffer;   // [cap, C], tokens in shuffled order
        private Tensor pending;  // tokens forwarded but not yet in the buffer
        private int at;

        @Override
        public Tensor next(int n, Random rng) {
            int cap = (int) Math.max(2L * n, (long) bufferImages * positions());
            if (buffer == null) {
                buffer = retain(tokens(cap, rng));
                shuffleBuffer(rng);
                at = 0;
            } else if (at + n > cap / 2) {
                // the served rows [0, at) are replaced by fresh tokens, then the whole buffer is mixed again
                Tensor fresh = tokens(at, rng);
                Tensor next = torch.cat(new TensorVector(fresh, buffer.narrow(0, at, cap - at)), 0);
                buffer.releaseReference();
                buffer = retain(next);
                shuffleBuffer(rng);
                at = 0;
            }
            Tensor x = buffer.narrow(0, at, n).clone();
            at += n;
            return x;
        }

        /** The next m tokens of the stream, forwarding images (a new permutation per pass) as needed. */
        private Tensor tokens(int m, Random rng) {
            TensorVector parts = new TensorVector();
            long have = 0;
            if (pending != null) {
                parts.push_back(pending);
                have = pending.size(0);
            }
            while (have < m) {
                if (nextImage >= order.length) {
                    SaeRows.shuffle(order, rng);
                    nextImage = 0;
                }
                int take = Math.min(imageBatch, order.length - nextImage);
                Tensor t = forward(Arrays.copyOfRange(order, nextImage, nextImage + take)).reshape(-1, shape[0]);
                nextImage += take;
                parts.push_back(t);
                have += t.size(0);
            }
            Tensor all = parts.size() == 1 ? parts.get(0) : torch.cat(parts, 0);
            Tensor rest = all.size(0) > m ? all.narrow(0, m, all.size(0) - m).clone() : null;
            if (pending != null) {
                pending.releaseReference();
            }
            pending = rest == null ? null : retain(rest);
            return all.narrow(0, 0, m).clone();
        }

        private void shuffleBuffer(Random rng) {
            long[] perm = java.util.stream.LongStream.range(0, buffer.size(0)).toArray();
            SaeRows.shuffle(perm, rng);
            Tensor mixed = buffer.index_select(0, Tensors.fromLongs(perm));
            buffer.releaseReference();
            buffer = retain(mixed);
        }
    }

    /** Keeps a tensor alive past the caller's PointerScope (the buffer outlives each training step). */
    private static Tensor retain(Tensor t) {
        t.retainReference();
        return t;
    }

    @Override
    public void scanImages(int batch, ImageBatch each) {
        for (int s = 0; s < images.length; s += batch) {
            try (PointerScope scope = new PointerScope()) {
                int n = Math.min(batch, images.length - s);
                each.accept(s, forward(Arrays.copyOfRange(images, s, s + n)));
            }
        }
    }
}
