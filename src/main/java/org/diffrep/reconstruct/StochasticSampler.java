package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.model.Denoiser;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.ops.MemoryBudget;
import org.diffrep.ops.Tensors;

import java.util.Arrays;
import java.util.Random;

/**
 * The stochastic coarse-to-fine sampler of Kadkhodaie and Simoncelli ("Solving linear inverse problems
 * using the prior implicit in a denoiser", 2021), per sample of a batch:
 * <pre>
 *   y_0 ~ N(0, sigmaStart^2 I)
 *   repeat for t = 1, 2, ...:  d = D(y) - y            (the residual points to the denoised image)
 *                              sigma_hat = ||d|| / sqrt(N)
 *                              stop if sigma_hat < sigmaEnd
 *                              h = h_t,  gamma = sigma_hat sqrt((1 - beta h)^2 - (1 - h)^2)
 *                              y = y + h (d - g) + gamma z,  z ~ N(0, I)
 *   return D(y) of the last step
 * </pre>
 * The paper's denoiser is blind; ours is conditioned on sigma, so each step gives it the sigma_hat of
 * the previous step (sigmaStart on the first). An optional {@link Guidance} term g (zero without one)
 * steers the walk; it is scaled by the caller. Noise comes from a seeded {@link Random}, so a run repeats.
 */
public final class StochasticSampler {

    /** A correction subtracted from the step direction, e.g. a scaled gradient of a representation loss. */
    @FunctionalInterface
    public interface Guidance {
        /** The correction for the batch y [B, ...] at noise levels sigma [B]; same shape as y. */
        Tensor correction(Tensor y, Tensor sigma);
    }

    /**
     * Samples and how they were reached.
     *
     * @param images     float [B][C*H*W], the denoised last step of each sample
     * @param steps      steps each sample took
     * @param finalSigma sigma_hat at the stop
     */
    public record Samples(float[][] images, int[] steps, double[] finalSigma) {

        /** All images one after another, float [B * C*H*W], as a batch tensor or an .npy file wants them. */
        public float[] flat() {
            int n = images[0].length;
            float[] out = new float[images.length * n];
            for (int b = 0; b < images.length; b++) {
                System.arraycopy(images[b], 0, out, b * n, n);
            }
            return out;
        }
    }

    private final Denoiser denoiser;
    private final SamplerConfig config;

    public StochasticSampler(Denoiser denoiser, SamplerConfig config) {
        this.denoiser = denoiser;
        this.config = config;
    }

    /** Draws {@code count} samples. */
    public Samples sample(int count) {
        return sample(count, null);
    }

    /** Draws {@code count} samples, steered by {@code guidance} when it is not null. */
    public Samples sample(int count, Guidance guidance) {
        if (count < 1) {
            throw InvalidInputException.field("samples", "must be >= 1, got " + count);
        }
        checkMemory(denoiser, count, guidance == null ? 1 : 3, "{samples} " + count, "samples");
        long[] shape = denoiser.inputShape();
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        long[] batchShape = new long[shape.length + 1];
        batchShape[0] = count;
        System.arraycopy(shape, 0, batchShape, 1, shape.length);
        Random rng = new Random(config.seed());
        float[] y = gaussian(rng, count * n, config.sigmaStart());
        float[] sigma = new float[count];
        Arrays.fill(sigma, (float) config.sigmaStart());
        boolean[] done = new boolean[count];
        int[] steps = new int[count];
        double[] finalSigma = new double[count];
        float[][] images = new float[count][];
        for (int t = 1; ; t++) {
            float[] denoised;
            float[] correction = null;
            try (PointerScope scope = new PointerScope()) {
                Tensor yt = Tensors.fromFloats(y, batchShape);
                Tensor st = Tensors.fromFloats(sigma);
                try (NoGradGuard off = new NoGradGuard()) {
                    denoised = Tensors.toFloats(denoiser.denoise(yt, st));
                }
                if (guidance != null) {
                    correction = Tensors.toFloats(guidance.correction(yt, st));
                }
            }
            double h = config.step(t);
            boolean last = t >= config.maxSteps();
            int active = 0;
            for (int b = 0; b < count; b++) {
                if (done[b]) {
                    continue;
                }
                double ss = 0;
                for (int q = b * n; q < (b + 1) * n; q++) {
                    double d = denoised[q] - y[q];
                    ss += d * d;
                }
                double sh = Math.sqrt(ss / n);
                if (!Double.isFinite(sh)) {
                    throw new InvalidInputException(denoiser.source() + ": the denoised estimate of sample " + b
                            + " is NaN or infinite at step " + t + " (input noise level " + sigma[b]
                            + "); the model gives no usable result there, so nothing was written");
                }
                if (correction != null && !finite(correction, b * n, (b + 1) * n)) {
                    throw new InvalidInputException(denoiser.source() + ": the guidance toward the target is NaN or "
                            + "infinite for sample " + b + " at step " + t + "; nothing was written");
                }
                finalSigma[b] = sh;
                if (sh < config.sigmaEnd() || last) {
                    images[b] = Arrays.copyOfRange(denoised, b * n, (b + 1) * n);
                    done[b] = true;
                    steps[b] = t;
                    continue;
                }
                active++;
                double a = 1 - config.beta() * h, c = 1 - h;
                double gamma = sh * Math.sqrt(Math.max(0, a * a - c * c));
                for (int q = b * n; q < (b + 1) * n; q++) {
                    double dir = denoised[q] - y[q] - (correction == null ? 0 : correction[q]);
                    y[q] += (float) (h * dir + gamma * rng.nextGaussian());
                }
                sigma[b] = (float) sh;
            }
            if (active == 0) {
                break;
            }
        }
        return new Samples(images, steps, finalSigma);
    }

    /**
     * Refuses a batch of {@code count} samples that cannot fit: the sampler keeps every sample in
     * Java arrays (the current image, its denoised estimate, the correction, the result) and runs the
     * denoiser on all of them at once ({@code factor} times the memory of a plain forward pass, e.g.
     * for the gradient of a guidance). {@code what} names the settings as {@link MemoryBudget} says.
     */
    public static void checkMemory(Denoiser denoiser, double count, double factor, String what, String... fields) {
        double n = 1;
        for (long s : denoiser.inputShape()) {
            n *= s;
        }
        String why = "sampling " + String.format(java.util.Locale.ROOT, "%.0f", count) + " images of "
                + Arrays.toString(denoiser.inputShape()) + " at once";
        MemoryBudget.requireArray(what, count * n, why, fields);
        MemoryBudget.requireHeap(what, 4 * 5 * count * n, why, fields);
        double nativeBytes = denoiser instanceof NetworkDenoiser net
                ? factor * net.size().inferenceBytes(count) : factor * 4 * 8 * count * n;
        MemoryBudget.requireNative(what, nativeBytes, why, fields);
    }

    private static boolean finite(float[] v, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(v[i])) {
                return false;
            }
        }
        return true;
    }

    private static float[] gaussian(Random rng, int size, double std) {
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = (float) (std * rng.nextGaussian());
        }
        return out;
    }
}
