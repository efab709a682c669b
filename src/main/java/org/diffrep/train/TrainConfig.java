package org.diffrep.train;

import org.diffrep.InvalidInputException;

/**
 * Settings of one diffusion (or single-noise-level DAE) training run. Build with {@link #builder}: the
 * defaults are its field initialisers, also readable as {@link #DEFAULTS}; the record's constructor
 * validates. Checkpoints store the record's text, so its components are part of the checkpoint format.
 *
 * @param steps           optimiser steps (default 1500)
 * @param batch           images per step (default 32): 1500 x 32 is the budget of every MNIST model measured in the
 *                        README (held-out MSE at sigma 0.5: 0.0127 with the default UNet, 0.0129 with channels
 *                        32,64,128 at lr 2e-3); the earlier 2000 x 64 costs 2.7 times as much and was never measured
 * @param lr              Adam learning rate after warm-up (default 1e-3)
 * @param warmupSteps     linear learning-rate warm-up from 0 over this many steps (default 200)
 * @param emaDecay        EMA decay per step (0 disables: the EMA equals the weights) (default 0.999)
 * @param seed            seeds batches and noise; step s uses a stream derived from (seed, s) so a
 *                        resumed run repeats the uninterrupted one exactly (default 0)
 * @param loss            {@code EDM}: sigma ~ exp(N(pMean, pStd^2)), weight (s^2+sd^2)/(s sd)^2;
 *                        {@code VP}: t uniform over the T=1000 steps of the VP linear schedule and the
 *                        noise-prediction loss ||eps_hat - eps||^2 = ||D - x0||^2 / sigma^2 (default EDM)
 * @param pMean           log-normal sigma mean (EDM) (default -1.2)
 * @param pStd            log-normal sigma std (EDM) (default 1.2)
 * @param daeSigma        if > 0: every sample uses this one noise level (a DAE), weight as in the loss mode
 *                        (default 0: all levels)
 * @param checkpointEvery steps between checkpoints (0: only at the end when a checkpoint path is set)
 *                        (default 500)
 */
public record TrainConfig(int steps, int batch, double lr, int warmupSteps, double emaDecay, long seed,
                          LossMode loss, double pMean, double pStd, double daeSigma, int checkpointEvery) {

    public enum LossMode { EDM, VP }

    public TrainConfig {
        if (steps < 0) {
            throw InvalidInputException.field("steps", "must be >= 0, got " + steps);
        }
        if (batch < 1) {
            throw InvalidInputException.field("batch", "must be >= 1, got " + batch);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw InvalidInputException.field("lr", "must be finite and > 0, got " + lr);
        }
        if (!(emaDecay >= 0 && emaDecay < 1)) {
            throw InvalidInputException.field("emaDecay", "must be in [0, 1), got " + emaDecay);
        }
        if (!(daeSigma >= 0) || Double.isInfinite(daeSigma)) {
            throw InvalidInputException.field("daeSigma", "must be finite and >= 0, got " + daeSigma);
        }
        if (!Double.isFinite(pMean) || !(pStd >= 0) || Double.isInfinite(pStd)) {
            throw InvalidInputException.fields("the log-normal sigma distribution needs a finite {pMean} and {pStd} >= 0, got "
                    + pMean + " and " + pStd, "pMean", "pStd");
        }
        if (warmupSteps < 0) {
            throw InvalidInputException.field("warmupSteps", "must be >= 0, got " + warmupSteps);
        }
        if (checkpointEvery < 0) {
            throw InvalidInputException.field("checkpointEvery", "must be >= 0, got " + checkpointEvery);
        }
    }

    /** Every field at its default. */
    public static final TrainConfig DEFAULTS = builder().build();

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings. */
    public Builder toBuilder() {
        return new Builder().steps(steps).batch(batch).lr(lr).warmupSteps(warmupSteps).emaDecay(emaDecay).seed(seed)
                .loss(loss).pMean(pMean).pStd(pStd).daeSigma(daeSigma).checkpointEvery(checkpointEvery);
    }

    /** The fields with their defaults; every setter returns the builder; the record's constructor validates. */
    public static final class Builder {
        private int steps = 1500;
        private int batch = 32;
        private double lr = 1e-3;
        private int warmupSteps = 200;
        private double emaDecay = 0.999;
        private long seed = 0;
        private LossMode loss = LossMode.EDM;
        private double pMean = -1.2;
        private double pStd = 1.2;
        private double daeSigma = 0;
        private int checkpointEvery = 500;

        public Builder steps(int v) { steps = v; return this; }
        public Builder batch(int v) { batch = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder warmupSteps(int v) { warmupSteps = v; return this; }
        public Builder emaDecay(double v) { emaDecay = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder loss(LossMode v) { loss = v; return this; }
        public Builder pMean(double v) { pMean = v; return this; }
        public Builder pStd(double v) { pStd = v; return this; }
        public Builder daeSigma(double v) { daeSigma = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }

        public TrainConfig build() {
            return new TrainConfig(steps, batch, lr, warmupSteps, emaDecay, seed, loss, pMean, pStd, daeSigma,
                    checkpointEvery);
        }
    }
}
