package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.analysis.NearestNeighbours;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;

import java.util.Arrays;

/**
 * A 3-NN classifier in representation space: the tap's channel means of clean images at one noise
 * level, compared in the whitened distance of a {@link RepresentationMetric} (Euclidean without
 * one). Set beside the pixel classifier it tells a sample whose representation matches the target's
 * class but whose pixels do not (the representation was met without drawing that digit).
 */
final class RepresentationClassifier {

    private static final int CHUNK = 256;

    private final Denoiser model;
    private final String tap;
    private final float sigma;
    // Both live in the PointerScope open at construction: use the classifier within it.
    private final Tensor whitening; // [C, C] Cholesky factor of the precision, or null
    private final Tensor train;     // [M, C]
    private final long[] labels;

    RepresentationClassifier(Denoiser model, String tap, float sigma, RepresentationMetric metric, Tensor images,
                             long[] labels) {
        this.model = model;
        this.tap = tap;
        this.sigma = sigma;
        this.labels = labels.clone();
        try (NoGradGuard off = new NoGradGuard()) {
            if (metric == null) {
                whitening = null;
            } else {
                Tensor l = torch.linalg_cholesky(metric.precisionFor(new float[]{sigma}).get(0).to(torch.ScalarType.Double))
                        .to(torch.ScalarType.Float);
                whitening = l;
            }
        }
        train = features(images);
    }

    /** Class of each image in x [B, ...] by 3-NN among the training images' representations. */
    long[] classify(Tensor x) {
        try (PointerScope scope = new PointerScope()) {
            return NearestNeighbours.classify(train, labels, features(x), 3);
        }
    }

    /** Representations [B, C] of x [B, ...], whitened when a metric was given; in chunks, no autograd. */
    private Tensor features(Tensor x) {
        try (NoGradGuard off = new NoGradGuard()) {
            TensorVector parts = new TensorVector();
            long b = x.size(0);
            for (long start = 0; start < b; start += CHUNK) {
                long end = Math.min(b, start + CHUNK);
                float[] s = new float[(int) (end - start)];
                Arrays.fill(s, sigma);
                Tensor r = Representation.of(model, tap, x.slice(0, new LongOptional(start), new LongOptional(end), 1), Tensors.fromFloats(s));
                parts.push_back(whitening == null ? r : r.matmul(whitening));
            }
            return torch.cat(parts).contiguous();
        }
    }
}
