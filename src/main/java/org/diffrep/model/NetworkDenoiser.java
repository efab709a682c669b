package org.diffrep.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringTensorDictItemVector;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;

/**
 * A denoiser built in Java from LibTorch modules: a network F wrapped by a {@link Parametrisation}.
 * Subclasses implement F with taps; this class applies the preconditioning and the tap contract.
 */
public abstract class NetworkDenoiser extends Module implements Denoiser {

    private final Parametrisation parametrisation;
    private final long[] inputShape;
    private String source;

    protected NetworkDenoiser(Parametrisation parametrisation, long[] inputShape) {
        this.parametrisation = parametrisation;
        this.inputShape = inputShape.clone();
    }

    @Override
    public String source() {
        return source != null ? source : "the " + kind() + " network";
    }

    /** Names what the network was read from (a model file) in messages. */
    public void source(String s) {
        this.source = s;
    }

    /** The network's size: parameters and activations per sample (see {@link ModelSize}). */
    public ModelSize size() {
        return ModelSize.of(config());
    }

    /** Architecture name stored in model files ({@code mlp}, {@code unet}). */
    public abstract String kind();

    /** The architecture configuration (a record that Jackson writes as JSON). */
    public abstract Record config();

    public Parametrisation parametrisation() {
        return parametrisation;
    }

    @Override
    public long[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public void train(boolean on) {
        super.train(on);
    }

    @Override
    public void to(Device device) {
        super.to(device, false);
    }

    /**
     * The network F on the preconditioned input. Puts the wanted taps (tap index <= {@code deepest}
     * and in {@code wanted}) into {@code out}; returns F's output, or null if it stopped after
     * {@code deepest} because {@code full} is false.
     */
    protected abstract Tensor network(Tensor xIn, Tensor cNoise, Set<String> wanted, int deepest,
                                      boolean full, Map<String, Tensor> out);

    @Override
    public Output forward(Tensor x, Tensor sigma, Set<String> taps, boolean wantDenoised) {
        int deepest = Denoiser.deepestTap(taps(), taps);
        checkInput(x, sigma);
        if (deepest < 0 && !wantDenoised) {
            return new Output(null, Map.of());
        }
        Parametrisation.Coefficients c = parametrisation.coefficients(sigma);
        long[] bshape = new long[(int) x.dim()];
        Arrays.fill(bshape, 1);
        bshape[0] = -1;
        Tensor xIn = x.mul(c.cIn().reshape(bshape));
        Map<String, Tensor> out = new LinkedHashMap<>();
        Tensor f = network(xIn, c.cNoise(), taps, deepest, wantDenoised, out);
        Tensor denoised = null;
        if (wantDenoised) {
            denoised = x.mul(c.cSkip().reshape(bshape)).add(f.mul(c.cOut().reshape(bshape)));
        }
        return new Output(denoised, out);
    }

    private void checkInput(Tensor x, Tensor sigma) {
        long[] s = new long[(int) x.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = x.size(i);
        }
        long[] want = inputShape;
        if (s.length != want.length + 1 || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), want)) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(s) + " does not match [N, "
                    + Arrays.toString(want).substring(1));
        }
        if (sigma.dim() != 1 || sigma.size(0) != s[0]) {
            throw new IllegalArgumentException("sigma must have shape [" + s[0] + "], got dim " + sigma.dim());
        }
    }

    /** Parameters and buffers by name, in registration order (what a model file holds). */
    public Map<String, Tensor> stateTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        addAll(m, named_parameters(true), false);
        addAll(m, named_buffers(true), false);
        return m;
    }

    /**
     * Trainable parameters by name, for optimisers and EMA that live as long as the model: the
     * handles are retained, so no PointerScope frees them.
     */
    public Map<String, Tensor> parameterTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        addAll(m, named_parameters(true), true);
        return m;
    }

    private static void addAll(Map<String, Tensor> m, StringTensorDict d, boolean retain) {
        StringTensorDictItemVector items = d.items();
        for (long i = 0; i < items.size(); i++) {
            // value() points into the temporary item vector, which the GC frees at any time: take
            // an owned handle (same TensorImpl, so gradients and in-place updates are shared).
            Tensor t = new Tensor(items.get(i).value());
            m.put(items.get(i).key().getString(), retain ? t.retainReference() : t);
        }
    }

    /** Records each wanted tap; true when the forward pass may stop here. */
    protected static boolean tap(String name, int index, Tensor value, Set<String> wanted, int deepest,
                                 boolean full, Map<String, Tensor> out) {
        if (wanted.contains(name)) {
            out.put(name, value);
        }
        return !full && index >= deepest;
    }

    /** Checks a configuration's input shape: {@code min..max} dimensions, each >= 1, at most 2^31 - 1 values. */
    static void checkShape(String kind, long[] shape, int min, int max) {
        String want = min == max && min == 3 ? "[C, H, W]" : "a shape of " + min + " to " + max + " sizes";
        if (shape == null || shape.length < min || shape.length > max) {
            throw InvalidInputException.fields(kind + ": {inputShape} must be " + want + ", got "
                    + (shape == null ? "none" : Arrays.toString(shape)), "inputShape");
        }
        double n = 1;
        for (long d : shape) {
            if (d < 1) {
                throw InvalidInputException.fields(kind + ": {inputShape} sizes must be >= 1, got " + Arrays.toString(shape),
                        "inputShape");
            }
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw InvalidInputException.fields(kind + ": {inputShape} " + Arrays.toString(shape) + " has " + (long) n
                    + " values per sample, more than " + Integer.MAX_VALUE, "inputShape");
        }
    }

    /** Checks a noise embedding's kind and (unless scalar) its even width. */
    static void checkEmbedding(String kind, String embedding, int dim, boolean scalarAllowed) {
        boolean known = NoiseEmbedding.SINUSOIDAL.equals(embedding) || NoiseEmbedding.FOURIER.equals(embedding)
                || scalarAllowed && NoiseEmbedding.SCALAR.equals(embedding);
        if (!known) {
            throw InvalidInputException.fields(kind + ": {embedding} must be sinusoidal, fourier"
                    + (scalarAllowed ? " or scalar" : "") + ", got " + (embedding == null ? "none" : "'" + embedding + "'"),
                    "embedding");
        }
        if (!NoiseEmbedding.SCALAR.equals(embedding) && (dim < 2 || dim % 2 != 0)) {
            throw InvalidInputException.fields(kind + ": {embeddingDim} must be even and >= 2, got " + dim, "embeddingDim");
        }
    }

    /** Product of the dimensions of a shape. */
    protected static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
