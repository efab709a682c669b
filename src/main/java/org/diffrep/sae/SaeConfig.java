package org.diffrep.sae;

import org.diffrep.InvalidInputException;

/**
 * Every setting of a TopK sparse autoencoder and its training, in one place. Stored as JSON in the
 * safetensors metadata, so a file says how it was made.
 *
 * @param inputDim   width D of the feature rows it encodes (fixed by the data)
 * @param latents    number of latents L (dictionary size); default 4096
 * @param k          latents kept per row by TopK; default 32
 * @param kAux       dead latents that reconstruct the residual in the AuxK loss; default 256 (capped at L)
 * @param deadAfter  a latent is dead after this many training rows without a non-zero activation; default 10,000
 * @param auxkAlpha  weight of the AuxK loss; default 1/32
 * @param lr         Adam learning rate after warm-up; default 1e-3 (the inputs are standardised, so one
 *                   rate fits all feature scales)
 * @param warmup     steps of linear learning-rate warm-up from 0; default 100
 * @param batch      rows per step; default 256
 * @param steps      optimisation steps; default 3000
 * @param seed       seed of the initialisation and the row order; default 0
 * @param relu       apply ReLU to the pre-activations before TopK, so codes are non-negative; default true
 * @param medianInit initialise b_dec at the geometric median of a sample (Weiszfeld) instead of the mean; default true
 */
public record SaeConfig(int inputDim, int latents, int k, int kAux, long deadAfter, double auxkAlpha, double lr,
                        int warmup, int batch, int steps, long seed, boolean relu, boolean medianInit) {

    public static final int DEFAULT_LATENTS = 4096;
    public static final int DEFAULT_K = 32;
    public static final int DEFAULT_K_AUX = 256;
    public static final long DEFAULT_DEAD_AFTER = 10_000;
    public static final double DEFAULT_AUXK_ALPHA = 1.0 / 32;
    public static final double DEFAULT_LR = 1e-3;
    public static final int DEFAULT_WARMUP = 100;
    public static final int DEFAULT_BATCH = 256;
    public static final int DEFAULT_STEPS = 3000;

    /** Validates every field; the message names the field and what it must be. */
    public SaeConfig {
        require(inputDim >= 1, "inputDim", "must be >= 1, got " + inputDim);
        require(latents >= 1, "latents", "must be >= 1, got " + latents);
        if (!(k >= 1 && k <= latents)) {
            throw InvalidInputException.fields("{k} must be in [1, {latents}=" + latents + "], got " + k, "k", "latents");
        }
        require(kAux >= 0, "kAux", "must be >= 0, got " + kAux);
        require(deadAfter >= 1, "deadAfter", "must be >= 1, got " + deadAfter);
        require(auxkAlpha >= 0 && Double.isFinite(auxkAlpha), "auxkAlpha", "must be finite and >= 0, got " + auxkAlpha);
        require(lr > 0 && Double.isFinite(lr), "lr", "must be finite and > 0, got " + lr);
        require(warmup >= 0, "warmup", "must be >= 0, got " + warmup);
        require(batch >= 1, "batch", "must be >= 1, got " + batch);
        require(steps >= 0, "steps", "must be >= 0, got " + steps);
        kAux = Math.min(kAux, latents);
    }

    /** The defaults for rows of width {@code inputDim}. */
    public static SaeConfig defaults(int inputDim) {
        return new SaeConfig(inputDim, DEFAULT_LATENTS, DEFAULT_K, DEFAULT_K_AUX, DEFAULT_DEAD_AFTER,
                DEFAULT_AUXK_ALPHA, DEFAULT_LR, DEFAULT_WARMUP, DEFAULT_BATCH, DEFAULT_STEPS, 0, true, true);
    }

    public SaeConfig withLatents(int v) {
        return new SaeConfig(inputDim, v, k, kAux, deadAfter, auxkAlpha, lr, warmup, batch, steps, seed, relu, medianInit);
    }

    public SaeConfig withK(int v) {
        return new SaeConfig(inputDim, latents, v, kAux, deadAfter, auxkAlpha, lr, warmup, batch, steps, seed, relu, medianInit);
    }

    public SaeConfig withSteps(int v) {
        return new SaeConfig(inputDim, latents, k, kAux, deadAfter, auxkAlpha, lr, warmup, batch, v, seed, relu, medianInit);
    }

    public SaeConfig withBatch(int v) {
        return new SaeConfig(inputDim, latents, k, kAux, deadAfter, auxkAlpha, lr, warmup, v, steps, seed, relu, medianInit);
    }

    public SaeConfig withDeadAfter(long v) {
        return new SaeConfig(inputDim, latents, k, kAux, v, auxkAlpha, lr, warmup, batch, steps, seed, relu, medianInit);
    }

    public SaeConfig withSeed(long v) {
        return new SaeConfig(inputDim, latents, k, kAux, deadAfter, auxkAlpha, lr, warmup, batch, steps, v, relu, medianInit);
    }

    /** The learning rate at step {@code step} (0-based): linear warm-up, then constant. */
    public double lrAt(int step) {
        return warmup == 0 || step >= warmup ? lr : lr * (step + 1) / warmup;
    }

    private static void require(boolean ok, String field, String detail) {
        if (!ok) {
            throw InvalidInputException.field(field, detail);
        }
    }
}
