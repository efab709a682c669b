package org.diffrep.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bytedeco.pytorch.GroupNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;

/**
 * A DDPM++-style UNet (Song et al. 2021, as in Karras et al. 2022) with EDM or VP preconditioning.
 *
 * <p>Levels l = 0..L-1 at resolutions R, R/2, ..., each with {@code blocks} residual blocks of
 * {@code channels[l]} channels (self-attention where the resolution is in {@code attention});
 * a 3x3 stride-2 conv between levels; a middle block res-attention-res; a decoder with
 * {@code blocks + 1} residual blocks per level fed the encoder's skips, nearest-neighbour
 * upsampling plus 3x3 conv between levels; GroupNorm, SiLU and a 3x3 conv out. The noise
 * embedding (sinusoidal or Fourier of c_noise, then a 2-layer MLP with SiLU) is added in every
 * residual block.
 *
 * <p>Inputs whose height or width is not divisible by 2^L (MNIST's 28) are zero-padded
 * symmetrically inside the model (28 -> 32 for three levels) and the output is cropped back; the
 * encoder, middle and decoder taps are at the padded size.
 *
 * <p>Taps: {@code enc.l} (level l after its blocks, before downsampling), {@code mid},
 * {@code dec.i} (i = 0 the deepest decoder level, after its blocks, before upsampling), {@code out}
 * (F's output, cropped, before preconditioning).
 */
public final class UNet extends NetworkDenoiser {

    /**
     * The architecture, stored as JSON in a model file (its components are the file's fields). Build
     * with {@link #builder}: the defaults are its field initialisers (the input shape has none: the data
     * fixes it); the record's constructor validates.
     *
     * @param inputShape  [C, H, W], C = 1 or 3
     * @param channels    channels per level (default [32, 64, 64])
     * @param blocks      residual blocks per encoder level (default 1)
     * @param attention   resolutions (of the padded input) that get self-attention (default [8])
     * @param embedding   {@code sinusoidal} or {@code fourier} (default sinusoidal)
     * @param parametrisation EDM or VP (default EDM)
     */
    public record Config(long[] inputShape, int[] channels, int blocks, int[] attention, String embedding,
                         Parametrisation parametrisation) {
        public Config {
            NetworkDenoiser.checkShape("unet", inputShape, 3, 3);
            if (channels == null || channels.length < 1 || channels.length > MAX_LEVELS
                    || Arrays.stream(channels).anyMatch(c -> c < 4)) {
                throw InvalidInputException.fields("unet: {channels} must list 1 to " + MAX_LEVELS
                        + " levels of >= 4 channels, got " + Arrays.toString(channels), "channels");
            }
            if (blocks < 1 || blocks > MAX_BLOCKS) {
                throw InvalidInputException.fields("unet: {blocks} per level must be in [1, " + MAX_BLOCKS + "], got " + blocks,
                        "blocks");
            }
            if (NoiseEmbedding.SCALAR.equals(embedding)) {
                throw InvalidInputException.fields("unet: {embedding} must be sinusoidal or fourier, got scalar", "embedding");
            }
            NetworkDenoiser.checkEmbedding("unet", embedding, 2, false);
            if (channels[0] % 2 != 0) {
                throw InvalidInputException.fields("unet: the first level's {channels} must be even (they are also the "
                        + "noise embedding's width), got " + channels[0], "channels");
            }
            if (parametrisation == null) {
                throw InvalidInputException.fields("unet: {parametrisation} must be EDM or VP, got none", "parametrisation");
            }
            attention = attention == null ? new int[0] : attention;
        }

        /** Levels at most (the input is padded to a multiple of 2^levels). */
        public static final int MAX_LEVELS = 16;
        /** Residual blocks per level at most. */
        public static final int MAX_BLOCKS = 64;

        /** The small CPU default: channels 32,64,64, 1 block per level, attention at 8x8, sinusoidal, EDM. */
        public static Config defaults(long... inputShape) {
            return builder().inputShape(inputShape).build();
        }

        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this configuration. */
        public Builder toBuilder() {
            return new Builder().inputShape(inputShape).channels(channels).blocks(blocks).attention(attention)
                    .embedding(embedding).parametrisation(parametrisation);
        }

        /** The fields with their defaults; every setter returns the builder. */
        public static final class Builder {
            private long[] inputShape;
            private int[] channels = {32, 64, 64};
            private int blocks = 1;
            private int[] attention = {8};
            private String embedding = NoiseEmbedding.SINUSOIDAL;
            private Parametrisation parametrisation = Parametrisation.EDM;

            public Builder inputShape(long... v) { inputShape = v == null ? null : v.clone(); return this; }
            public Builder channels(int... v) { channels = v == null ? null : v.clone(); return this; }
            public Builder blocks(int v) { blocks = v; return this; }
            public Builder attention(int... v) { attention = v == null ? null : v.clone(); return this; }
            public Builder embedding(String v) { embedding = v; return this; }
            public Builder parametrisation(Parametrisation v) { parametrisation = v; return this; }

            public Config build() {
                return new Config(inputShape == null ? null : inputShape.clone(), channels == null ? null : channels.clone(),
                        blocks, attention == null ? null : attention.clone(), embedding, parametrisation);
            }
        }
    }

    private final Config config;
    private final int levels;
    private final long padH;
    private final long padW;
    private final NoiseEmbedding embed;
    private final LinearImpl map0;
    private final LinearImpl map1;
    private final Conv convIn;
    private final List<List<ResBlock>> enc = new ArrayList<>();
    private final List<Conv> down = new ArrayList<>();
    private final ResBlock mid0;
    private final ResBlock mid1;
    private final List<List<ResBlock>> dec = new ArrayList<>();
    private final List<Conv> up = new ArrayList<>();
    private final GroupNormImpl outNorm;
    private final Conv outConv;
    private final List<String> taps = new ArrayList<>();

    public UNet(Config config) {
        super(config.parametrisation(), config.inputShape());
        this.config = config;
        int[] ch = config.channels();
        levels = ch.length;
        long factor = 1L << levels; // as DDPM++ on 32x32: MNIST 28 -> 32
        long h = config.inputShape()[1];
        long w = config.inputShape()[2];
        padH = (factor - h % factor) % factor;
        padW = (factor - w % factor) % factor;
        long res = h + padH;
        long c0 = ch[0];
        long embDim = 4 * c0;
        embed = register_module("embed", new NoiseEmbedding(config.embedding(), (int) c0));
        map0 = register_module("map0", new LinearImpl(c0, embDim));
        map1 = register_module("map1", new LinearImpl(embDim, embDim));
        convIn = register_module("conv_in", new Conv(config.inputShape()[0], c0, 3, 1, false));

        Deque<Long> skipCh = new ArrayDeque<>();
        skipCh.push(c0);
        long c = c0;
        for (int l = 0; l < levels; l++) {
            List<ResBlock> blocks = new ArrayList<>();
            boolean attn = hasAttention(res);
            for (int b = 0; b < config.blocks(); b++) {
                blocks.add(register_module("enc_" + l + "_" + b, new ResBlock(c, ch[l], embDim, attn)));
                c = ch[l];
                skipCh.push(c);
            }
            enc.add(blocks);
            taps.add("enc." + l);
            if (l < levels - 1) {
                down.add(register_module("down_" + l, new Conv(c, c, 3, 2, false)));
                skipCh.push(c);
                res /= 2;
            }
        }
        mid0 = register_module("mid_0", new ResBlock(c, c, embDim, true));
        mid1 = register_module("mid_1", new ResBlock(c, c, embDim, false));
        taps.add("mid");
        for (int l = levels - 1, i = 0; l >= 0; l--, i++) {
            List<ResBlock> blocks = new ArrayList<>();
            boolean attn = hasAttention(res);
            for (int b = 0; b <= config.blocks(); b++) {
                blocks.add(register_module("dec_" + l + "_" + b, new ResBlock(c + skipCh.pop(), ch[l], embDim, attn)));
                c = ch[l];
            }
            dec.add(blocks);
            taps.add("dec." + i);
            if (l > 0) {
                up.add(register_module("up_" + l, new Conv(c, c, 3, 1, false)));
                res *= 2;
            }
        }
        outNorm = register_module("out_norm", new GroupNormImpl(ResBlock.groups(c), c));
        outConv = register_module("out_conv", new Conv(c, config.inputShape()[0], 3, 1, true));
        taps.add("out");
    }

    private boolean hasAttention(long res) {
        return Arrays.stream(config.attention()).anyMatch(a -> a == res);
    }

    @Override
    public String kind() {
        return "unet";
    }

    @Override
    public Config config() {
        return config;
    }

    @Override
    public List<String> taps() {
        return List.copyOf(taps);
    }

    @Override
    protected Tensor network(Tensor xIn, Tensor cNoise, Set<String> wanted, int deepest, boolean full,
                             Map<String, Tensor> out) {
        Tensor emb = torch.silu(map1.forward(torch.silu(map0.forward(embed.forward(cNoise)))));
        Tensor x = xIn;
        if (padH > 0 || padW > 0) {
            x = torch.constant_pad_nd(x, padW / 2, padW - padW / 2, padH / 2, padH - padH / 2);
        }
        Deque<Tensor> skips = new ArrayDeque<>();
        Tensor h = convIn.forward(x);
        skips.push(h);
        int tapIndex = 0;
        for (int l = 0; l < levels; l++) {
            for (ResBlock b : enc.get(l)) {
                h = b.forward(h, emb);
                skips.push(h);
            }
            if (tap("enc." + l, tapIndex++, h, wanted, deepest, full, out)) {
                return null;
            }
            if (l < levels - 1) {
                h = down.get(l).forward(h);
                skips.push(h);
            }
        }
        h = mid1.forward(mid0.forward(h, emb), emb);
        if (tap("mid", tapIndex++, h, wanted, deepest, full, out)) {
            return null;
        }
        for (int i = 0; i < levels; i++) {
            for (ResBlock b : dec.get(i)) {
                h = b.forward(torch.cat(new TensorVector(h, skips.pop()), 1), emb);
            }
            if (tap("dec." + i, tapIndex++, h, wanted, deepest, full, out)) {
                return null;
            }
            if (i < levels - 1) {
                h = up.get(i).forward(torch.upsample_nearest2d(h, new long[]{h.size(2) * 2, h.size(3) * 2}));
            }
        }
        Tensor f = outConv.forward(torch.silu(outNorm.forward(h)));
        if (padH > 0 || padW > 0) {
            f = f.narrow(2, padH / 2, xIn.size(2)).narrow(3, padW / 2, xIn.size(3));
        }
        tap("out", tapIndex, f, wanted, deepest, full, out);
        return f;
    }
}
