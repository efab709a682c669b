package org.diffrep.sae;

import org.diffrep.InvalidInputException;

/**
 * Every setting of a TopK sparse autoencoder and its training, in one place. Stored as JSON in the
 * safetensors metadata, so a file says how it was made. Build with {@link #builder}: the defaults are
 * its field initialisers ({@link #defaults} gives them for a width); the record's constructor validates,
 * also what a file holds.
 *
 * @param inputDim   width D of the feature rows it encodes (fixed by the data)
 * @param latents    number of latents L (dictionary size); default 4096
 * @param k          latents kept per row by TopK; default 32
 * @param kAux       dead latents that reconstruct the residual in the AuxK loss; default D/2 (Gao et al.; at least 1),
 *                   capped at L
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
        return builder().inputDim(inputDim).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration. */
    public Builder toBuilder() {
        return new Builder().inputDim(inputDim).latents(latents).k(k).kAux(kAux).deadAfter(deadAfter)
                .auxkAlpha(auxkAlpha).lr(lr).warmup(warmup).batch(batch).steps(steps).seed(seed).relu(relu)
                .medianInit(medianInit);
    }

    /** The fields with their defaults (the input width has none: the data fixes it); every setter returns the builder. */
    public static final class Builder {
        private int inputDim;
        private int latents = 4096;
        private int k = 32;
        /** null: D/2, resolved in {@link #build} once the width is known. */
        private Integer kAux = null;
        private long deadAfter = 10_000;
        private double auxkAlpha = 1.0 / 32;
        private double lr = 1e-3;
        private int warmup = 100;
        private int batch = 256;
        private int steps = 3000;
        private long seed = 0;
        private boolean relu = true;
        private boolean medianInit = true;

        public Builder inputDim(int v) { inputDim = v; return this; }
        public Builder latents(int v) { latents = v; return this; }
        public Builder k(int v) { k = v; return this; }
        public Builder kAux(int v) { kAux = v; return this; }
        /** Back to the default k_aux, D/2. */
        public Builder kAuxDefault() { kAux = null; return this; }
        public Builder deadAfter(long v) { deadAfter = v; return this; }
        public Builder auxkAlpha(double v) { auxkAlpha = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder warmup(int v) { warmup = v; return this; }
        public Builder batch(int v) { batch = v; return this; }
        public Builder steps(int v) { steps = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder relu(boolean v) { relu = v; return this; }
        public Builder medianInit(boolean v) { medianInit = v; return this; }

        public SaeConfig build() {
            int aux = kAux != null ? kAux : Math.max(1, inputDim / 2);
            return new SaeConfig(inputDim, latents, k, aux, deadAfter, auxkAlpha, lr, warmup, batch, steps, seed, relu,
                    medianInit);
        }
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
