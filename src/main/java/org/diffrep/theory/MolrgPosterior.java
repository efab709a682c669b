package org.diffrep.theory;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The optimal denoiser of a mixture of low-rank Gaussians (MoLRG) with equal class priors, in closed
 * form (docs/THEORY.md, DESIGN.md): class k draws x0 = U_k a + delta * Ut_k e, and x_t = x0 + sigma * eps.
 * All arithmetic is in float64.
 */
public final class MolrgPosterior {

    private final Tensor bases;
    private final double delta;

    /**
     * @param bases orthonormal, mutually orthogonal class bases [K, n, d] (any float type)
     * @param delta the in-noise-space scale of each class, in [0, 1)
     */
    public MolrgPosterior(Tensor bases, double delta) {
        if (bases.dim() != 3) {
            throw new IllegalArgumentException("bases must be [K, n, d], got " + bases.dim() + " dimensions");
        }
        if (!(delta >= 0 && delta < 1)) {
            throw new IllegalArgumentException("delta must be in [0, 1), got " + delta);
        }
        this.bases = bases.to(ScalarType.Double).contiguous();
        this.delta = delta;
    }

    public Tensor bases() {
        return bases;
    }

    public double delta() {
        return delta;
    }

    /** Coordinates of each sample in each class subspace: U_k^T x, shape [K, N, d]. */
    public Tensor projections(Tensor x) {
        Tensor xd = x.to(ScalarType.Double);
        if (xd.dim() != 2 || xd.size(1) != bases.size(1)) {
            throw new IllegalArgumentException("x must be [N, " + bases.size(1) + "], got " + Csnr.shapeOf(xd));
        }
        return xd.unsqueeze(0).matmul(bases);
    }

    /**
     * Class posterior w [N, K]: softmax over k of c * ||U_k^T x_t||^2 with
     * c = (1 - delta^2) / (2 (1 + sigma^2)(delta^2 + sigma^2)); rows sum to 1.
     */
    public Tensor classPosterior(Tensor xt, double sigma) {
        return classPosteriorFromProjections(projections(xt), sigma);
    }

    /** Posterior mean E[x0 | x_t] [N, n] = sum_l U_l (xi + (zeta - xi) w_l) U_l^T x_t. */
    public Tensor mean(Tensor xt, double sigma) {
        Tensor proj = projections(xt);
        Tensor w = classPosteriorFromProjections(proj, sigma);
        double s2 = sigma * sigma;
        double zeta = 1.0 / (1.0 + s2);
        double xi = delta * delta / (delta * delta + s2);
        // coefficient per sample and class, [K, N, 1]
        Tensor coef = w.t().mul(new Scalar(zeta - xi)).add(new Scalar(xi)).unsqueeze(2);
        return proj.mul(coef).matmul(bases.transpose(1, 2)).sum(0);
    }

    private Tensor classPosteriorFromProjections(Tensor proj, double sigma) {
        if (!(sigma >= 0) || Double.isInfinite(sigma)) {
            throw new IllegalArgumentException("sigma must be finite and >= 0, got " + sigma);
        }
        double s2 = sigma * sigma;
        double d2 = delta * delta;
        if (d2 + s2 == 0) {
            throw new IllegalArgumentException("delta and sigma cannot both be 0: the class posterior is a hard argmax");
        }
        double c = (1 - d2) / (2 * (1 + s2) * (d2 + s2));
        Tensor energy = proj.square().sum(2).t(); // [N, K]
        // softmax subtracts the row maximum, so large c * energy does not overflow
        return energy.mul(new Scalar(c)).softmax(1);
    }
}
