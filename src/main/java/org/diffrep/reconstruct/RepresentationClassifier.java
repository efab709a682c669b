package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.analysis.NearestNeighbours;
import org.diffrep.model.Denoiser;

/**
 * A 3-NN classifier in representation space: the tap's channel means of clean images at one noise
 * level, compared in the whitened distance of the training images' own covariance (ridge
 * {@link RepresentationMetric#SHRINK}; on the MNIST UNet's mid means 3-NN then finds the class of
 * real digits 82-86% of the time, Euclidean 53-60%). Set beside the pixel classifier it tells a
 * sample whose representation matches the target's class but whose pixels do not (the
 * representation was met without drawing that digit). Independent of the guidance's metric, so
 * runs with different guidance are scored alike.
 */
public final class RepresentationClassifier {

    private static final int CHUNK = 256;

    private final Denoiser model;
    private final String tap;
    private final float sigma;
    // Both live in the PointerScope open at construction: use the classifier within it.
    private final Tensor whitening; // [C, C] Cholesky factor of the precision
    private final Tensor train;     // [M, C]
    private final long[] labels;

    public RepresentationClassifier(Denoiser model, String tap, float sigma, Tensor images, long[] labels) {
        this.model = model;
        this.tap = tap;
        this.sigma = sigma;
        this.labels = labels.clone();
        try (NoGradGuard off = new NoGradGuard()) {
            Tensor raw = representations(images);
            Tensor p = RepresentationMetric.precision(raw, RepresentationMetric.SHRINK).to(torch.ScalarType.Double);
            // d^T P d = |d^T L|^2 with P = L L^T: whitening is one product per row
            whitening = torch.linalg_cholesky(p).to(torch.ScalarType.Float);
            train = raw.matmul(whitening);
        }
    }

    /** Class of each image in x [B, ...] by 3-NN among the training images' representations. */
    public long[] classify(Tensor x) {
        try (PointerScope scope = new PointerScope()) {
            try (NoGradGuard off = new NoGradGuard()) {
                return NearestNeighbours.classify(train, labels, representations(x).matmul(whitening), 3);
            }
        }
    }

    /** Representations [B, C] of x [B, ...] at the classifier's sigma, in chunks, no autograd. */
    private Tensor representations(Tensor x) {
        try (NoGradGuard off = new NoGradGuard()) {
            TensorVector parts = new TensorVector();
            long b = x.size(0);
            for (long start = 0; start < b; start += CHUNK) {
                long end = Math.min(b, start + CHUNK);
                Tensor r = Representation.of(model, tap, x.slice(0, new LongOptional(start), new LongOptional(end), 1),
                        Representation.sigmas(end - start, sigma));
                parts.push_back(r);
            }
            return torch.cat(parts).contiguous();
        }
    }
}
