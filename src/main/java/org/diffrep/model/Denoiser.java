package org.diffrep.model;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

/**
 * A denoiser D(x; sigma) in the EDM convention ({@code x = x0 + sigma * eps}) whose intermediate
 * activations can be read at named taps.
 */
public interface Denoiser {

    /** What the denoiser was read from (a model file), for messages. */
    default String source() {
        return "the denoiser";
    }

    /** Tap names in forward order: {@code enc.0}, ..., {@code mid}, {@code dec.0}, ..., {@code out}. */
    List<String> taps();

    /** The shape of one input sample, without the batch dimension (e.g. {@code [1, 28, 28]}). */
    long[] inputShape();

    /**
     * Runs the denoiser.
     *
     * @param x            noisy input {@code x0 + sigma * eps}, shape {@code [N, inputShape...]}
     * @param sigma        noise level per sample, float32 {@code [N]}
     * @param taps         tap names to return (may be empty)
     * @param wantDenoised whether to compute the denoised output; when false the forward pass stops
     *                     after the deepest tap wanted
     * @throws IllegalArgumentException for an unknown tap name (the message lists the available ones)
     */
    Output forward(Tensor x, Tensor sigma, Set<String> taps, boolean wantDenoised);

    /** The denoised estimate of x0 only. */
    default Tensor denoise(Tensor x, Tensor sigma) {
        return forward(x, sigma, Set.of(), true).denoised();
    }

    /** Switches between training (autograd, parameters trainable) and evaluation behaviour. */
    default void train(boolean on) {
    }

    /**
     * Moves the parameters and buffers to {@code device} ({@code cpu}, {@code cuda} or {@code cuda:N}); inputs must
     * then be on that device too. The default refuses (an input error naming device), for denoisers that cannot move.
     */
    default void to(Device device) {
        // a user's own Denoiser that keeps its weights elsewhere: the run stays on the CPU
        throw org.diffrep.InvalidInputException.field("device", ": " + source() + " cannot move to "
                + device.str().getString() + "; use cpu");
    }

    /** A denoiser's result: the denoised batch (null when not wanted) and the requested taps. */
    record Output(Tensor denoised, Map<String, Tensor> taps) {
    }

    /** Checks tap names against {@code available}; returns the index of the deepest one wanted (-1 if none). */
    static int deepestTap(List<String> available, Set<String> wanted) {
        int deepest = -1;
        for (String t : wanted) {
            int i = available.indexOf(t);
            if (i < 0) {
                throw new IllegalArgumentException("unknown tap '" + t + "'; available taps: "
                        + String.join(", ", available));
            }
            deepest = Math.max(deepest, i);
        }
        return deepest;
    }
}
