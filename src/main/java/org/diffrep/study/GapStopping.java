package org.diffrep.study;

import org.diffrep.train.Trainer;

/**
 * The MoLRG experiment's stopping rule on the held-out MSE gap to the optimum (mean over the grid of
 * MSE_mlp/MSE_opt - 1), fed one measurement at a time: stop as soon as the gap is at most the tolerance
 * ({@code tolerance}); after {@code patience} measurements without a 1% improvement on the best gap,
 * halve the learning rate; after {@code halvings} halvings, stop at the next such plateau ({@code plateau}).
 * The step cap is the trainer's (reason {@code cap}, reported by the caller when {@link #reason} is null).
 */
final class GapStopping {

    /** The relative improvement on the best gap that counts as progress. */
    static final double MIN_IMPROVEMENT = 0.01;

    private final double tolerance;
    private final int patience;
    private final int halvings;
    private double best = Double.POSITIVE_INFINITY;
    private int stale;
    private int halved;
    private double lrScale = 1;
    private String reason;

    GapStopping(double tolerance, int patience, int halvings) {
        if (patience < 1 || halvings < 0 || !(tolerance >= 0)) {
            throw new IllegalArgumentException("tolerance >= 0, patience >= 1, halvings >= 0; got " + tolerance + ", "
                    + patience + ", " + halvings);
        }
        this.tolerance = tolerance;
        this.patience = patience;
        this.halvings = halvings;
    }

    /** The decision after a measurement of the gap (a NaN or infinite gap counts as no progress). */
    Trainer.Decision next(double gap) {
        if (gap <= tolerance) {
            reason = "tolerance";
            return new Trainer.Decision(true, lrScale);
        }
        if (Double.isFinite(gap) && (best == Double.POSITIVE_INFINITY || gap < best - MIN_IMPROVEMENT * Math.abs(best))) {
            best = gap;
            stale = 0;
        } else if (++stale >= patience) {
            stale = 0;
            if (halved >= halvings) {
                reason = "plateau";
                return new Trainer.Decision(true, lrScale);
            }
            halved++;
            lrScale /= 2;
        }
        return new Trainer.Decision(false, lrScale);
    }

    /** Why the rule stopped ({@code tolerance} or {@code plateau}), or null while it has not. */
    String reason() {
        return reason;
    }

    /** The best gap so far. */
    double best() {
        return best;
    }
}
