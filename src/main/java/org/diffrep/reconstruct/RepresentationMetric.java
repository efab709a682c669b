package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;

/**
 * The whitened (Mahalanobis) distance between representations: d^T P(sigma) d with P the inverse of
 * the representation covariance of real images at that noise level (shrunk toward a multiple of the
 * identity). Why: on the MNIST UNet the mid-block channel means put 99.7% of their variance in 16
 * directions (stroke thickness, slant, ink) while the digit class lives mostly in the remaining
 * 0.3% (docs/SAE.md). A Euclidean pull matches the style first; a whitened one weighs every
 * direction by how much real images vary along it. Measured on MNIST (ANALYSIS.md) it lifted the
 * class match only from 10% to 13% (chance 10%), and with a small ridge it left the digit manifold.
 *
 * <p>P is estimated at a log-spaced grid of noise levels and looked up at the nearest one, per sample.
 */
public final class RepresentationMetric {

    /** The distance a guidance pulls in: Euclidean, or whitened by an estimated {@link RepresentationMetric}. */
    public enum Kind {
        EUCLIDEAN, WHITENED
    }

    /** Default relative ridge added to the covariance before inverting: shrink * mean variance * I. */
    public static final double SHRINK = 0.01;

    private final double[] logSigmas;
    private final Tensor precisions; // [S, C, C] float32, retained

    private RepresentationMetric(double[] logSigmas, Tensor precisions) {
        this.logSigmas = logSigmas;
        this.precisions = precisions;
    }

    /**
     * Estimates P at {@code levels} noise levels log-spaced over [sigmaLow, sigmaHigh] from the
     * representations of {@code images} [M, ...] (real images, clean input), M > C, with the ridge
     * {@code shrink} * mean variance (0: the plain inverse; large: back toward Euclidean).
     */
    public static RepresentationMetric estimate(Denoiser d, String tap, Tensor images, double sigmaLow,
                                                double sigmaHigh, int levels, double shrink) {
        long m = images.size(0);
        double[] logs = new double[levels];
        TensorVector mats = new TensorVector();
        try (NoGradGuard off = new NoGradGuard()) {
            for (int i = 0; i < levels; i++) {
                logs[i] = levels == 1 ? Math.log(sigmaLow)
                        : Math.log(sigmaLow) + (Math.log(sigmaHigh) - Math.log(sigmaLow)) * i / (levels - 1);
                try (PointerScope scope = new PointerScope()) {
                    Tensor r = Representation.of(d, tap, images, Representation.sigmas(m, (float) Math.exp(logs[i])));
                    Tensor p = precision(r, shrink);
                    p.retainReference();
                    mats.push_back(p);
                }
            }
        }
        Tensor all = torch.stack(mats);
        all.retainReference();
        return new RepresentationMetric(logs, all);
    }

    /**
     * The scaled precision meanVar * (cov + shrink * meanVar * I)^-1 [C, C] (float32) of representations
     * r [M, C], M > C: isotropic features give the identity, so a pull keeps the Euclidean units.
     */
    static Tensor precision(Tensor r, double shrink) {
        long m = r.size(0), c = r.size(1);
        if (m <= c) {
            throw InvalidInputException.fields("the metric needs more {images} (" + m + ") than channels (" + c + ")",
                    "images");
        }
        Tensor x = r.to(torch.ScalarType.Double);
        Tensor centred = x.sub(x.mean(new long[]{0}, true, null));
        Tensor cov = centred.t().matmul(centred).div(new Scalar((double) (m - 1)));
        double meanVar = cov.diagonal().mean().item_double();
        Tensor ridge = torch.eye(c, Tensors.options(torch.ScalarType.Double)).mul(new Scalar(shrink * meanVar));
        return torch.linalg_inv(cov.add(ridge)).mul(new Scalar(meanVar)).to(torch.ScalarType.Float);
    }

    /** Precision matrices [B, C, C] for per-sample noise levels sigma [B] (nearest grid level in log). */
    public Tensor precisionFor(float[] sigma) {
        long[] idx = new long[sigma.length];
        for (int b = 0; b < sigma.length; b++) {
            double ls = Math.log(Math.max(sigma[b], 1e-12));
            int best = 0;
            for (int i = 1; i < logSigmas.length; i++) {
                if (Math.abs(logSigmas[i] - ls) < Math.abs(logSigmas[best] - ls)) {
                    best = i;
                }
            }
            idx[b] = best;
        }
        return precisions.index_select(0, Tensors.fromLongs(idx, idx.length));
    }

    /** Squared whitened distances per row of diff [B, C] (autograd flows through diff). */
    public Tensor squaredDistances(Tensor diff, Tensor sigma) {
        Tensor p = precisionFor(Tensors.toFloats(sigma));
        return diff.unsqueeze(1).bmm(p).bmm(diff.unsqueeze(2)).reshape(diff.size(0));
    }
}
