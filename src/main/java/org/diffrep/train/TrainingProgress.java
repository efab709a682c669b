package org.diffrep.train;

import java.io.PrintStream;
import java.util.function.Consumer;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows training progress: a progress bar with the loss and images/s when stderr is a terminal,
 * otherwise a plain line every {@code every} steps (for logs).
 */
public final class TrainingProgress implements Consumer<Trainer.StepReport>, AutoCloseable {

    private final ProgressBar bar;
    private final PrintStream log;
    private final long every;
    private double smoothed = Double.NaN;

    public TrainingProgress(long startStep, long totalSteps, PrintStream log) {
        this.log = log;
        this.every = Math.max(1, (totalSteps - startStep) / 20);
        if (System.console() != null) {
            bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).build();
            bar.stepTo(startStep);
        } else {
            bar = null;
        }
    }

    @Override
    public void accept(Trainer.StepReport r) {
        smoothed = Double.isNaN(smoothed) ? r.loss() : 0.98 * smoothed + 0.02 * r.loss();
        if (bar != null) {
            bar.stepTo(r.step());
            bar.setExtraMessage(String.format("loss %.4f  %.0f img/s", smoothed, r.imagesPerSecond()));
        } else if (r.step() % every == 0 || r.step() == r.totalSteps()) {
            log.printf("step %d/%d  loss %.4f  %.1f img/s%n", r.step(), r.totalSteps(), smoothed, r.imagesPerSecond());
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
