package org.diffrep.cli;

import org.diffrep.reconstruct.SamplerConfig;
import picocli.CommandLine.Option;

/** The stochastic sampler's options, shared by {@code sample} and {@code reconstruct}. */
final class SamplerOptions {

    @Option(names = "--h0", defaultValue = "0.01", description = "First step size (default: ${DEFAULT-VALUE}).")
    double h0;

    @Option(names = "--beta", defaultValue = "0.1", description = "Noise kept out per step, (0, 1] (default: ${DEFAULT-VALUE}).")
    double beta;

    @Option(names = "--sigma-start", defaultValue = "3.0",
            description = "Initial noise level; above the data's spread (default: ${DEFAULT-VALUE}).")
    double sigmaStart;

    @Option(names = "--sigma-end", defaultValue = "0.01", description = "Stop below this sigma_hat (default: ${DEFAULT-VALUE}).")
    double sigmaEnd;

    @Option(names = "--max-steps", defaultValue = "2000", description = "Steps at most (default: ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--fixed-step", description = "Use h0 for every step instead of the growing schedule.")
    boolean fixedStep;

    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    SamplerConfig config() {
        return new SamplerConfig(h0, beta, sigmaStart, sigmaEnd, maxSteps, fixedStep, seed);
    }
}
