package org.diffrep.reconstruct;

import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;

import java.util.Arrays;
import java.util.Random;

/**
 * Steers the sampler so that the sample's representation (tap channel means) moves toward a target
 * image's. G is the gradient with respect to y of a distance between two representations, what is
 * compared being set by {@link Match} (default DENOISED: m(D(y; sigma_hat); s) against m(x*; s),
 * m(., sigma) being {@link Representation#of} with the denoiser conditioned on sigma), Euclidean or
 * whitened ({@link RepresentationMetric}). The correction subtracted from the step direction D(y) - y is
 * <pre>
 *   NORMALISED (default): g = lambda * ||D(y) - y|| * G / ||G||      (||D(y) - y|| = sigma_hat sqrt(N))
 *   SCORE:                g = lambda * sigma_hat^2 * G
 * </pre>
 * NORMALISED makes lambda (--guidance) the size of the pull relative to the denoiser's own step, the
 * same at every noise level, so it neither vanishes at low noise nor swamps the denoiser at high
 * noise (with SCORE, lambda 300 stalled the sampler: sigma_hat stopped falling). SCORE is the
 * likelihood reading: D(y) - y is sigma^2 times the score, so exp(-||m(y) - m*||^2 / 2 tau^2) adds
 * sigma^2 / (2 tau^2) times G, lambda standing for 1 / (2 tau^2).
 */
public final class RepresentationGuidance implements StochasticSampler.Guidance {

    private final Denoiser denoiser;
    private final String tap;
    private final Tensor target;   // one clean image [1, C, H, W]
    private final double strength;
    private final Scaling scaling;
    private RepresentationMetric metric; // null: Euclidean
    private Match match = GuidanceSettings.DEFAULTS.match();
    private int targetDraws = GuidanceSettings.DEFAULTS.targetDraws();
    private float matchSigma = (float) GuidanceSettings.DEFAULTS.matchSigma();
    private double minSigma = 0;
    private float[] fixedTarget; // DENOISED: m(x*; matchSigma), once known
    private Random noise = new Random(0);

    /** How the representation gradient is sized against the denoiser step (see the class comment). */
    public enum Scaling {
        NORMALISED, SCORE
    }

    public RepresentationGuidance(Denoiser denoiser, String tap, Tensor targetImage, double strength) {
        this(denoiser, tap, targetImage, strength, Scaling.NORMALISED);
    }

    public RepresentationGuidance(Denoiser denoiser, String tap, Tensor targetImage, double strength, Scaling scaling) {
        Representation.checkTap(denoiser, tap);
        this.denoiser = denoiser;
        this.tap = tap;
        this.target = targetImage;
        this.strength = strength;
        this.scaling = scaling;
    }

    /**
     * What is matched at a step with noise level sigma_hat.
     * <ul>
     * <li>NOISY: m(y; sigma_hat) against the research's phi(x*, sigma_hat) = E_z m(x* + sigma_hat z;
     * sigma_hat), estimated with fresh draws every step, so the target is seen as the sample is.</li>
     * <li>CLEAN: m(y; sigma_hat) against the clean target conditioned on sigma_hat (an input the
     * network never saw in training at high sigma).</li>
     * <li>DENOISED: m(D(y; sigma_hat); s) against m(x*; s), both clean inputs at one level s, the
     * gradient taken through the denoiser (as in diffusion posterior sampling). The class is decided
     * at high noise, where y says little but D(y) is already a digit prototype.</li>
     * </ul>
     */
    public enum Match {
        NOISY, CLEAN, DENOISED
    }

    /**
     * Matches as {@code mode}: NOISY averages {@code draws} noise draws of the target (seeded);
     * DENOISED reads both representations at {@code matchSigma}.
     */
    public RepresentationGuidance withMatch(Match mode, int draws, double matchSigma, long seed) {
        if (draws < 1) {
            throw InvalidInputException.field("targetDraws", "must be >= 1, got " + draws);
        }
        if (!(matchSigma > 0) || Double.isInfinite(matchSigma)) {
            throw InvalidInputException.field("matchSigma", "must be > 0, got " + matchSigma);
        }
        this.match = mode;
        this.targetDraws = draws;
        this.matchSigma = (float) matchSigma;
        this.fixedTarget = null;
        this.noise = new Random(seed);
        return this;
    }

    /**
     * Stops pulling a sample once its sigma_hat is below {@code sigma}: the class is settled at high
     * noise, and at low noise the pull only bends strokes to match the representation.
     */
    public RepresentationGuidance until(double sigma) {
        if (!(sigma >= 0) || Double.isInfinite(sigma)) {
            throw InvalidInputException.field("untilSigma", "must be >= 0, got " + sigma);
        }
        this.minSigma = sigma;
        return this;
    }

    /** Pulls in the whitened distance of {@code m} instead of the Euclidean one. */
    public RepresentationGuidance withMetric(RepresentationMetric m) {
        this.metric = m;
        return this;
    }

    @Override
    public Tensor correction(Tensor y, Tensor sigma) {
        long b = y.size(0);
        float[] sv = Tensors.toFloats(sigma);
        float[] active = new float[sv.length];
        boolean any = false;
        for (int i = 0; i < sv.length; i++) {
            active[i] = sv[i] >= minSigma ? 1f : 0f;
            any |= active[i] > 0;
        }
        if (!any) {
            return torch.zeros_like(y);
        }
        Tensor targetRep = targetRepresentation(b, sigma);
        try (AutoGradMode on = new AutoGradMode(true)) {
            Tensor yg = y.detach().clone().requires_grad_(true);
            Tensor readAt = sigma;
            Tensor rep;
            if (match == Match.DENOISED) {
                readAt = Representation.sigmas(b, matchSigma);
                rep = Representation.of(denoiser, tap, denoiser.denoise(yg, sigma), readAt);
            } else {
                rep = Representation.of(denoiser, tap, yg, sigma);
            }
            Tensor diff = rep.sub(targetRep);
            Tensor loss = metric == null ? diff.mul(diff).sum() : metric.squaredDistances(diff, readAt).sum();
            Tensor grad = torch.grad(new TensorVector(loss), new TensorVector(yg)).get(0);
            long[] shape = new long[(int) y.dim()];
            Arrays.fill(shape, 1);
            shape[0] = b;
            Tensor scale;
            if (scaling == Scaling.SCORE) {
                scale = sigma.mul(sigma).mul(new Scalar(strength));
            } else {
                double n = grad.numel() / (double) b;
                Tensor norm = grad.reshape(b, -1).norm(new ScalarOptional(new Scalar(2.0)), new long[]{1}, false)
                        .clamp_min(new Scalar(1e-12));
                scale = sigma.mul(new Scalar(strength * Math.sqrt(n))).div(norm);
            }
            return grad.mul(scale.mul(Tensors.fromFloats(active)).reshape(shape)).detach();
        }
    }

    /** The target's representation [B, C] for each sample (see {@link Match}). */
    Tensor targetRepresentation(long b, Tensor sigma) {
        if (match == Match.DENOISED) {
            // the same at every step: computed once, kept in Java (no tensor outlives a step's scope)
            if (fixedTarget == null) {
                try (NoGradGuard off = new NoGradGuard()) {
                    fixedTarget = Tensors.toFloats(Representation.of(denoiser, tap, target, Representation.sigmas(1, matchSigma)));
                }
            }
            return Tensors.fromFloats(fixedTarget, 1, fixedTarget.length).expand(b, fixedTarget.length);
        }
        try (NoGradGuard off = new NoGradGuard()) {
            int k = match == Match.NOISY ? targetDraws : 1;
            long[] reps = new long[(int) target.dim()];
            Arrays.fill(reps, 1);
            reps[0] = b * k;
            Tensor x = target.repeat(reps);
            Tensor s = sigma.repeat_interleave(k);
            if (match == Match.NOISY) {
                float[] sv = Tensors.toFloats(s);
                int n = (int) (x.numel() / x.size(0));
                float[] z = new float[sv.length * n];
                for (int i = 0; i < z.length; i++) {
                    z[i] = (float) (sv[i / n] * noise.nextGaussian());
                }
                x = x.add(Tensors.fromFloats(z, Tensors.shape(x)));
            }
            Tensor r = Representation.of(denoiser, tap, x, s);
            return r.reshape(b, k, r.size(1)).mean(new long[]{1}, false, null).detach();
        }
    }

    /** Euclidean representation distance of each image in x [B, ...] to the target, at one sigma. */
    public double[] distances(Tensor x, float sigma) {
        try (NoGradGuard off = new NoGradGuard()) {
            Tensor rx = Representation.of(denoiser, tap, x, Representation.sigmas(x.size(0), sigma));
            Tensor rt = Representation.of(denoiser, tap, target, Representation.sigmas(1, sigma));
            Tensor d = rx.sub(rt);
            float[] out = Tensors.toFloats(d.mul(d).sum(1));
            double[] r = new double[out.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = Math.sqrt(out[i]);
            }
            return r;
        }
    }
}
