package org.diffrep.model;

import java.util.Arrays;
import java.util.Locale;

import org.diffrep.ops.MemoryBudget;

/**
 * The size of a network, computed from its configuration alone (before any module is built), in
 * doubles so that no product of sizes can overflow: the parameter count and an estimate of the
 * activations one sample keeps alive in a forward pass with autograd (the outputs of every
 * normalisation, activation, convolution and attention in the graph).
 *
 * @param parameters          trainable parameters (float32 each)
 * @param activationsPerSample float32 values a forward pass keeps per sample, attention matrices included
 * @param inputPerSample      values of one input sample
 */
public record ModelSize(double parameters, double activationsPerSample, double inputPerSample) {

    /** The size of the network a configuration ({@link MlpDenoiser.Config} or {@link UNet.Config}) describes. */
    public static ModelSize of(Record config) {
        if (config instanceof MlpDenoiser.Config c) {
            return mlp(c);
        }
        if (config instanceof UNet.Config c) {
            return unet(c);
        }
        throw new IllegalArgumentException("not a network configuration: " + config);
    }

    /** Bytes of the weights. */
    public double weightBytes() {
        return 4 * parameters;
    }

    /**
     * Bytes a training step on {@code batch} images needs: weights, gradients, two Adam moments and
     * the EMA (5 copies of the parameters), and per image the input, its noise, the noisy input and
     * the output, plus the activations and their gradients.
     */
    public double trainingBytes(double batch) {
        return 4 * (5 * parameters + batch * (6 * inputPerSample + 2 * activationsPerSample));
    }

    /** Bytes a forward pass without autograd on {@code batch} samples needs at most (weights, inputs, activations). */
    public double inferenceBytes(double batch) {
        return 4 * (parameters + batch * (3 * inputPerSample + activationsPerSample));
    }

    /**
     * Refuses a configuration whose weights and one sample's forward pass do not fit the native
     * memory limit; {@code what} names where it comes from (a file's metadata entry, options).
     */
    public static ModelSize check(Record config, String what) {
        ModelSize s = of(config);
        MemoryBudget.requireNative(what, s.inferenceBytes(1), String.format(Locale.ROOT,
                "a network of %.3g parameters (and %.3g activations per sample)", s.parameters, s.activationsPerSample));
        return s;
    }

    private static double product(long[] shape) {
        double n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static double linear(double in, double out) {
        return in * out + out;
    }

    private static double conv(double in, double out, double k) {
        return in * out * k * k + out;
    }

    private static ModelSize mlp(MlpDenoiser.Config c) {
        double d = product(c.inputShape());
        double e = NoiseEmbedding.SCALAR.equals(c.embedding()) ? 1 : c.embeddingDim();
        double params = 0, acts = e, in = d;
        for (int i = 0; i < c.depth(); i++) {
            params += linear(in + e, c.width());
            acts += (in + e) + 2.0 * c.width(); // the concatenation, the product, the activation
            in = c.width();
        }
        params += linear(in + e, d);
        acts += (in + e) + 3 * d;
        return new ModelSize(params, acts, d);
    }

    private static ModelSize unet(UNet.Config cfg) {
        int[] ch = cfg.channels();
        int levels = ch.length;
        double channelsIn = cfg.inputShape()[0];
        double factor = Math.pow(2, levels);
        double h = Math.ceil(cfg.inputShape()[1] / factor) * factor;
        double w = Math.ceil(cfg.inputShape()[2] / factor) * factor;
        double res = h; // attention is keyed by the padded height, as in UNet
        double area = h * w;
        double c0 = ch[0];
        double emb = 4 * c0;
        double params = linear(c0, emb) + linear(emb, emb) + conv(channelsIn, c0, 3);
        double acts = area * (channelsIn + c0) + 3 * emb;
        double[] blockActs = new double[1];
        java.util.ArrayDeque<Double> skips = new java.util.ArrayDeque<>();
        skips.push(c0);
        double c = c0;
        for (int l = 0; l < levels; l++) {
            boolean attn = hasAttention(cfg, res);
            for (int b = 0; b < cfg.blocks(); b++) {
                params += resBlock(c, ch[l], emb, attn, area, blockActs);
                acts += blockActs[0];
                c = ch[l];
                skips.push(c);
            }
            if (l < levels - 1) {
                params += conv(c, c, 3);
                skips.push(c);
                res /= 2;
                area /= 4;
                acts += area * c;
            }
        }
        params += resBlock(c, c, emb, true, area, blockActs);
        acts += blockActs[0];
        params += resBlock(c, c, emb, false, area, blockActs);
        acts += blockActs[0];
        for (int l = levels - 1; l >= 0; l--) {
            boolean attn = hasAttention(cfg, res);
            for (int b = 0; b <= cfg.blocks(); b++) {
                double skip = skips.isEmpty() ? c : skips.pop();
                params += resBlock(c + skip, ch[l], emb, attn, area, blockActs);
                acts += blockActs[0] + area * (c + skip);
                c = ch[l];
            }
            if (l > 0) {
                params += conv(c, c, 3);
                res *= 2;
                area *= 4;
                acts += 2 * area * c;
            }
        }
        params += 2 * c + conv(c, channelsIn, 3);
        acts += area * (3 * c + 2 * channelsIn);
        return new ModelSize(params, acts, product(cfg.inputShape()));
    }

    /** Parameters of a ResBlock; its activations per sample go to {@code acts[0]}. */
    private static double resBlock(double in, double out, double emb, boolean attention, double area, double[] acts) {
        double p = 2 * in + conv(in, out, 3) + linear(emb, out) + 2 * out + conv(out, out, 3);
        double a = area * (2 * in + 7 * out);
        if (in != out) {
            p += conv(in, out, 1);
            a += area * out;
        }
        if (attention) {
            p += 2 * out + conv(out, 3 * out, 1) + conv(out, out, 1);
            double heads = ResBlock.heads((long) out);
            a += area * 7 * out + 2 * heads * area * area; // q, k, v, output, projection; the attention matrix
        }
        acts[0] = a;
        return p;
    }

    private static boolean hasAttention(UNet.Config cfg, double res) {
        return Arrays.stream(cfg.attention()).anyMatch(a -> a == res);
    }
}
