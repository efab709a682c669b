package org.diffrep.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;

/**
 * A fully connected denoiser on flattened inputs of any shape: {@code depth} hidden layers of
 * {@code width} units, each fed the previous layer concatenated with the noise embedding.
 * Taps: {@code enc.0} ... {@code enc.(depth-1)} (hidden activations, [N, width]) and {@code out}
 * (F's output in the input's shape, before preconditioning).
 */
public final class MlpDenoiser extends NetworkDenoiser {

    /**
     * The architecture, stored as JSON in a model file (its components are the file's fields). Build
     * with {@link #builder}: the defaults are its field initialisers (the input shape has none: the data
     * fixes it); the record's constructor validates.
     *
     * @param inputShape    one sample's shape, e.g. [1, 28, 28] or [50]
     * @param depth         hidden layers, >= 1 (default 3)
     * @param width         units per hidden layer (default 256)
     * @param activation    {@code relu} or {@code silu} (default silu)
     * @param embedding     {@code sinusoidal}, {@code fourier} or {@code scalar} (c_noise concatenated)
     *                      (default sinusoidal)
     * @param embeddingDim  embedding width, ignored for scalar (default 32)
     * @param parametrisation {@code EDM} or {@code VP} (default EDM)
     */
    public record Config(long[] inputShape, int depth, int width, String activation, String embedding,
                         int embeddingDim, Parametrisation parametrisation) {
        public Config {
            NetworkDenoiser.checkShape("mlp", inputShape, 1, 8);
            if (depth < 1 || depth > MAX_DEPTH) {
                throw InvalidInputException.fields("mlp: {depth} must be in [1, " + MAX_DEPTH + "], got " + depth, "depth");
            }
            if (width < 1) {
                throw InvalidInputException.fields("mlp: {width} must be >= 1, got " + width, "width");
            }
            if (!"relu".equals(activation) && !"silu".equals(activation)) {
                throw InvalidInputException.fields("mlp: {activation} must be relu or silu, got "
                        + (activation == null ? "none" : "'" + activation + "'"), "activation");
            }
            NetworkDenoiser.checkEmbedding("mlp", embedding, embeddingDim, true);
            if (parametrisation == null) {
                throw InvalidInputException.fields("mlp: {parametrisation} must be EDM or VP, got none", "parametrisation");
            }
        }

        /** Hidden layers at most. */
        public static final int MAX_DEPTH = 1024;

        /** Defaults: 3 x 256 SiLU, sinusoidal embedding of width 32, EDM. */
        public static Config defaults(long... inputShape) {
            return builder().inputShape(inputShape).build();
        }

        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this configuration. */
        public Builder toBuilder() {
            return new Builder().inputShape(inputShape).depth(depth).width(width).activation(activation)
                    .embedding(embedding).embeddingDim(embeddingDim).parametrisation(parametrisation);
        }

        /** The fields with their defaults; every setter returns the builder. */
        public static final class Builder {
            private long[] inputShape;
            private int depth = 3;
            private int width = 256;
            private String activation = "silu";
            private String embedding = NoiseEmbedding.SINUSOIDAL;
            private int embeddingDim = 32;
            private Parametrisation parametrisation = Parametrisation.EDM;

            public Builder inputShape(long... v) { inputShape = v == null ? null : v.clone(); return this; }
            public Builder depth(int v) { depth = v; return this; }
            public Builder width(int v) { width = v; return this; }
            public Builder activation(String v) { activation = v; return this; }
            public Builder embedding(String v) { embedding = v; return this; }
            public Builder embeddingDim(int v) { embeddingDim = v; return this; }
            public Builder parametrisation(Parametrisation v) { parametrisation = v; return this; }

            public Config build() {
                return new Config(inputShape == null ? null : inputShape.clone(), depth, width, activation, embedding,
                        embeddingDim, parametrisation);
            }
        }
    }

    private final Config config;
    private final NoiseEmbedding embed;
    private final List<LinearImpl> hidden = new ArrayList<>();
    private final LinearImpl head;
    private final List<String> taps = new ArrayList<>();

    public MlpDenoiser(Config config) {
        super(config.parametrisation(), config.inputShape());
        this.config = config;
        long d = numel(config.inputShape());
        embed = register_module("embed", new NoiseEmbedding(config.embedding(), config.embeddingDim()));
        long in = d;
        for (int i = 0; i < config.depth(); i++) {
            hidden.add(register_module("enc_" + i, new LinearImpl(in + embed.dim(), config.width())));
            taps.add("enc." + i);
            in = config.width();
        }
        head = register_module("head", new LinearImpl(in + embed.dim(), d));
        taps.add("out");
    }

    @Override
    public String kind() {
        return "mlp";
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
        Tensor e = embed.forward(cNoise);
        Tensor h = xIn.reshape(xIn.size(0), -1);
        for (int i = 0; i < hidden.size(); i++) {
            h = hidden.get(i).forward(torch.cat(new TensorVector(h, e), 1));
            h = config.activation().equals("relu") ? torch.relu(h) : torch.silu(h);
            if (tap("enc." + i, i, h, wanted, deepest, full, out)) {
                return null;
            }
        }
        Tensor f = head.forward(torch.cat(new TensorVector(h, e), 1)).reshape(org.diffrep.ops.Tensors.shape(xIn));
        tap("out", hidden.size(), f, wanted, deepest, full, out);
        return f;
    }
}
