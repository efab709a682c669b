package org.diffrep.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringTensorDictItemVector;
import org.bytedeco.pytorch.Tensor;

/**
 * A denoiser built in Java from LibTorch modules: a network F wrapped by a {@link Parametrisation}.
 * Subclasses implement F with taps; this class applies the preconditioning and the tap contract.
 */
public abstract class NetworkDenoiser extends Module implements Denoiser {

    private final Parametrisation parametrisation;
    private final long[] inputShape;

    protected NetworkDenoiser(Parametrisation parametrisation, long[] inputShape) {
        this.parametrisation = parametrisation;
        this.inputShape = inputShape.clone();
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
        addAll(m, named_parameters(true));
        addAll(m, named_buffers(true));
        return m;
    }

    /** Trainable parameters by name. */
    public Map<String, Tensor> parameterTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        addAll(m, named_parameters(true));
        return m;
    }

    private static void addAll(Map<String, Tensor> m, StringTensorDict d) {
        StringTensorDictItemVector items = d.items();
        for (long i = 0; i < items.size(); i++) {
            m.put(items.get(i).key().getString(), items.get(i).value());
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

    /** Product of the dimensions of a shape. */
    protected static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
