package org.diffrep.train;

import org.diffrep.InvalidInputException;

/**
 * Settings of one diffusion (or single-noise-level DAE) training run.
 *
 * @param steps           optimiser steps
 * @param batch           images per step
 * @param lr              Adam learning rate after warm-up
 * @param warmupSteps     linear learning-rate warm-up from 0 over this many steps
 * @param emaDecay        EMA decay per step (0 disables: the EMA equals the weights)
 * @param seed            seeds batches and noise; step s uses a stream derived from (seed, s) so a
 *                        resumed run repeats the uninterrupted one exactly
 * @param loss            {@code EDM}: sigma ~ exp(N(pMean, pStd^2)), weight (s^2+sd^2)/(s sd)^2;
 *                        {@code VP}: t uniform over the T=1000 steps of the VP linear schedule and the
 *                        noise-prediction loss ||eps_hat - eps||^2 = ||D - x0||^2 / sigma^2
 * @param pMean           log-normal sigma mean (EDM)
 * @param pStd            log-normal sigma std (EDM)
 * @param daeSigma        if > 0: every sample uses this one noise level (a DAE), weight as in the loss mode
 * @param checkpointEvery steps between checkpoints (0: only at the end when a checkpoint path is set)
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

    /** Defaults: batch 64, lr 1e-3 with 200 warm-up steps, EMA 0.999, EDM loss, seed 0. */
    public static TrainConfig defaults(int steps) {
        return new TrainConfig(steps, 64, 1e-3, 200, 0.999, 0, LossMode.EDM, -1.2, 1.2, 0, 0);
    }

    public TrainConfig withSteps(int s) {
        return new TrainConfig(s, batch, lr, warmupSteps, emaDecay, seed, loss, pMean, pStd, daeSigma, checkpointEvery);
    }
}
