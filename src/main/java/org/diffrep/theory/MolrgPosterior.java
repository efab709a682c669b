package org.diffrep.theory;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.diffrep.data.MolrgNoiseSpace;

/**
 * The optimal denoiser of a mixture of low-rank Gaussians (MoLRG) with equal class priors, in closed
 * form (docs/THEORY.md, DESIGN.md): class k draws x0 = U_k a + delta * Ut_k e, and x_t = x0 + sigma * eps.
 * All arithmetic is in float64.
 */
public final class MolrgPosterior {

    private final Tensor bases;
    private final double delta;
    private final MolrgNoiseSpace space;

    /**
     * @param bases orthonormal, mutually orthogonal class bases [K, n, d] (any float type)
     * @param delta the in-noise-space scale of each class, in [0, 1)
     */
    public MolrgPosterior(Tensor bases, double delta) {
        this(bases, delta, MolrgNoiseSpace.OTHERS);
    }

    /**
     * @param bases orthonormal, mutually orthogonal class bases [K, n, d] (any float type)
     * @param delta the in-noise-space scale of each class, in [0, 1)
     * @param space where a class puts its delta-scaled component: the other classes' span or the whole
     *              orthogonal complement of its own basis (the class posterior is the same formula for both)
     */
    public MolrgPosterior(Tensor bases, double delta, MolrgNoiseSpace space) {
        this.space = space;
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

    public MolrgNoiseSpace noiseSpace() {
        return space;
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

    /**
     * Posterior mean E[x0 | x_t] [N, n] = sum_l U_l (xi + (zeta - xi) w_l) U_l^T x_t (noise space
     * {@code OTHERS}); with {@code COMPLEMENT} the part of x_t outside every class basis adds
     * xi (I - sum_l U_l U_l^T) x_t.
     */
    public Tensor mean(Tensor xt, double sigma) {
        Tensor proj = projections(xt);
        Tensor w = classPosteriorFromProjections(proj, sigma);
        double s2 = sigma * sigma;
        double zeta = 1.0 / (1.0 + s2);
        double xi = delta * delta / (delta * delta + s2);
        // coefficient per sample and class, [K, N, 1]
        Tensor coef = w.t().mul(new Scalar(zeta - xi)).add(new Scalar(xi)).unsqueeze(2);
        Tensor inBases = proj.mul(coef).matmul(bases.transpose(1, 2)).sum(0);
        return space == MolrgNoiseSpace.COMPLEMENT ? inBases.add(outside(xt, proj).mul(new Scalar(xi))) : inBases;
    }

    /**
     * The best linear (Wiener) denoiser, Sigma (Sigma + sigma^2 I)^-1 x_t with Sigma the mixture's
     * covariance: on the span of all class bases the variance per direction is v = (1 + (K-1) delta^2)/K
     * ({@code OTHERS}) or v = delta^2 + (1 - delta^2)/K ({@code COMPLEMENT}), so that part shrinks by
     * v/(v + sigma^2); outside it (only {@code COMPLEMENT} has variance there, delta^2) by
     * delta^2/(delta^2 + sigma^2), else to 0.
     */
    public Tensor linearMean(Tensor xt, double sigma) {
        Tensor proj = projections(xt);
        double s2 = sigma * sigma;
        double d2 = delta * delta;
        long k = bases.size(0);
        double v = space == MolrgNoiseSpace.COMPLEMENT ? d2 + (1 - d2) / k : (1 + (k - 1) * d2) / k;
        Tensor inBases = proj.matmul(bases.transpose(1, 2)).sum(0).mul(new Scalar(v / (v + s2)));
        return space == MolrgNoiseSpace.COMPLEMENT && d2 > 0
                ? inBases.add(outside(xt, proj).mul(new Scalar(d2 / (d2 + s2)))) : inBases;
    }

    /**
     * Accuracy of the Bayes classifier argmax_k w_k(x) against {@code labels}: the ceiling of any
     * classifier of x (ties, which have probability 0, go to the lower class).
     */
    public double bayesAccuracy(Tensor x, double sigma, long[] labels) {
        double[] w = org.diffrep.ops.DoubleTensors.toDoubles(classPosterior(x, sigma));
        int k = (int) bases.size(0);
        if (w.length != (long) labels.length * k) {
            throw new IllegalArgumentException("x has " + w.length / k + " rows but there are " + labels.length + " labels");
        }
        long right = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < k; c++) {
                if (w[i * k + c] > w[i * k + best]) {
                    best = c;
                }
            }
            right += best == labels[i] ? 1 : 0;
        }
        return labels.length == 0 ? Double.NaN : (double) right / labels.length;
    }

    /** (I - sum_l U_l U_l^T) x, [N, n], from x and its projections [K, N, d]. */
    private Tensor outside(Tensor x, Tensor proj) {
        return x.to(ScalarType.Double).sub(proj.matmul(bases.transpose(1, 2)).sum(0));
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
