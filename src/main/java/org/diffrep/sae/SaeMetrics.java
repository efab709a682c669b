package org.diffrep.sae;

/**
 * Training metrics at one step, averaged over the steps since the previous record.
 *
 * @param step         optimisation steps done
 * @param fvu          fraction of variance unexplained: ||x - x_hat||^2 / ||x - mean x||^2 over the batch
 * @param auxLoss      the AuxK loss (0 while no latent is dead)
 * @param l0           mean number of non-zero codes per row
 * @param deadFraction share of latents with no activation in the last dead_after training rows
 * @param lr           learning rate at the step
 */
public record SaeMetrics(int step, double fvu, double auxLoss, double l0, double deadFraction, double lr) {
}
