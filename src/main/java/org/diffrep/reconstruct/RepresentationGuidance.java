package org.diffrep.reconstruct;

import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.model.Denoiser;

/**
 * Steers the sampler so that the sample's representation (tap channel means) moves toward a target
 * image's. At a step with noise level sigma_hat the correction is
 * <pre>
 *   g(y) = lambda * sigma_hat^2 * grad_y || m(y; sigma_hat) - m(x*; sigma_hat) ||^2
 * </pre>
 * where m(., sigma) is {@link Representation#of} with the denoiser conditioned on sigma and x* the clean
 * target. Why sigma_hat^2: the sampler's direction D(y) - y is sigma^2 times the score, so a
 * likelihood term exp(-||m(y) - m*||^2 / 2 tau^2) adds sigma^2 / (2 tau^2) times the gradient; lambda
 * (--guidance) stands for 1 / (2 tau^2) and keeps one meaning across noise levels. The target is
 * re-encoded at each step's sigma_hat, so both representations are read at the same level.
 */
public final class RepresentationGuidance implements StochasticSampler.Guidance {

    private final Denoiser denoiser;
    private final String tap;
    private final Tensor target;   // one clean image [1, C, H, W]
    private final double strength;

    public RepresentationGuidance(Denoiser denoiser, String tap, Tensor targetImage, double strength) {
        Representation.checkTap(denoiser, tap);
        this.denoiser = denoiser;
        this.tap = tap;
        this.target = targetImage;
        this.strength = strength;
    }

    @Override
    public Tensor correction(Tensor y, Tensor sigma) {
        long b = y.size(0);
        Tensor targetRep;
        try (NoGradGuard off = new NoGradGuard()) {
            long[] reps = new long[(int) target.dim()];
            java.util.Arrays.fill(reps, 1);
            reps[0] = b;
            targetRep = Representation.of(denoiser, tap, target.repeat(reps), sigma).detach();
        }
        try (AutoGradMode on = new AutoGradMode(true)) {
            Tensor yg = y.detach().clone().requires_grad_(true);
            Tensor rep = Representation.of(denoiser, tap, yg, sigma);
            Tensor diff = rep.sub(targetRep);
            Tensor loss = diff.mul(diff).sum();
            Tensor grad = torch.grad(new TensorVector(loss), new TensorVector(yg)).get(0);
            long[] shape = new long[(int) y.dim()];
            java.util.Arrays.fill(shape, 1);
            shape[0] = b;
            Tensor scale = sigma.mul(sigma).mul(new Scalar(strength)).reshape(shape);
            return grad.mul(scale).detach();
        }
    }

    /** Euclidean representation distance of each image in x [B, ...] to the target, at one sigma. */
    public double[] distances(Tensor x, float sigma) {
        try (NoGradGuard off = new NoGradGuard()) {
            long b = x.size(0);
            float[] s = new float[(int) b];
            java.util.Arrays.fill(s, sigma);
            Tensor st = org.diffrep.ops.Tensors.fromFloats(s);
            Tensor rx = Representation.of(denoiser, tap, x, st);
            Tensor rt = Representation.of(denoiser, tap, target, org.diffrep.ops.Tensors.fromFloats(new float[]{sigma}));
            Tensor d = rx.sub(rt);
            float[] out = org.diffrep.ops.Tensors.toFloats(d.mul(d).sum(1));
            double[] r = new double[out.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = Math.sqrt(out[i]);
            }
            return r;
        }
    }
}
