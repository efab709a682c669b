package org.diffrep.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;

/**
 * Denoising quality at one noise level on held-out images: mean squared error per pixel of the
 * model's D(x0 + sigma eps; sigma), of the noisy input itself (about sigma^2), and of per-pixel
 * linear (Wiener) shrinkage {@code mu + var/(var + sigma^2) (y - mu)} with mean and variance per
 * pixel estimated on the training images. Noise is seeded, so the figures repeat.
 */
public final class DenoisingEval {

    private DenoisingEval() {
    }

    /** The three MSEs (per pixel, data in [-1, 1]) over {@code count} test images. */
    public record Result(double sigma, long count, double noisyMse, double wienerMse, double modelMse) {
        @Override
        public String toString() {
            return String.format("sigma=%.3f n=%d  MSE noisy=%.5f  wiener=%.5f  model=%.5f", sigma, count, noisyMse,
                    wienerMse, modelMse);
        }
    }

    public static Result evaluate(Denoiser model, ImageSource train, ImageSource test, double sigma, long seed,
                                  int batch) {
        model.train(false);
        try (InferenceMode inference = new InferenceMode(); PointerScope outer = new PointerScope()) {
            Tensor[] stats = pixelStats(train, batch);
            Tensor mu = stats[0];
            Tensor gain = stats[1].div(stats[1].add(new Scalar(sigma * sigma)));
            double noisy = 0;
            double wiener = 0;
            double denoised = 0;
            long n = test.size();
            for (long start = 0; start < n; start += batch) {
                try (PointerScope scope = new PointerScope()) {
                    long[] idx = range(start, Math.min(n, start + batch));
                    Tensor x0 = test.images(idx);
                    torch.manual_seed(Trainer.mix(seed, start));
                    Tensor y = x0.add(torch.randn(Tensors.shape(x0)).mul(new Scalar(sigma)));
                    float[] s = new float[idx.length];
                    java.util.Arrays.fill(s, (float) sigma);
                    Tensor d = model.denoise(y, Tensors.fromFloats(s));
                    Tensor w = y.sub(mu).mul(gain).add(mu);
                    noisy += y.sub(x0).square().sum().item_double();
                    wiener += w.sub(x0).square().sum().item_double();
                    denoised += d.sub(x0).square().sum().item_double();
                }
            }
            double elems = (double) n * numel(test.shape());
            return new Result(sigma, n, noisy / elems, wiener / elems, denoised / elems);
        }
    }

    /** Per-pixel mean and (population) variance over a source, each shaped like one image with a batch dim of 1. */
    static Tensor[] pixelStats(ImageSource src, int batch) {
        long n = src.size();
        Tensor sum = null;
        Tensor sumSq = null;
        for (long start = 0; start < n; start += batch) {
            Tensor x = src.images(range(start, Math.min(n, start + batch))).to(
                    Tensors.options(torch.ScalarType.Double), false, false, null);
            Tensor s = x.sum(new long[]{0}, true, null);
            Tensor q = x.square().sum(new long[]{0}, true, null);
            sum = sum == null ? s : sum.add(s);
            sumSq = sumSq == null ? q : sumSq.add(q);
        }
        Tensor mean = sum.div(new Scalar((double) n));
        Tensor var = sumSq.div(new Scalar((double) n)).sub(mean.square()).clamp_min(new Scalar(0.0));
        return new Tensor[]{mean.to(Tensors.options(torch.ScalarType.Float), false, false, null),
                var.to(Tensors.options(torch.ScalarType.Float), false, false, null)};
    }

    private static long[] range(long from, long to) {
        long[] r = new long[(int) (to - from)];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    private static long numel(long[] shape) {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return p;
    }
}
