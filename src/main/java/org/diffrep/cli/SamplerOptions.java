package org.diffrep.cli;

import org.diffrep.reconstruct.SamplerConfig;
import picocli.CommandLine.Option;

/**
 * The stochastic sampler's options, shared by {@code sample} and {@code reconstruct}; their defaults
 * are {@link SamplerConfig#DEFAULTS}.
 */
final class SamplerOptions {

    private static final SamplerConfig D = SamplerConfig.DEFAULTS;

    @Option(names = "--h0", description = "First step size (default: ${DEFAULT-VALUE}).")
    double h0 = D.h0();

    @Option(names = "--beta", description = "Noise kept out per step, (0, 1] (default: ${DEFAULT-VALUE}).")
    double beta = D.beta();

    @Option(names = "--sigma-start", description = "Initial noise level; above the data's spread (default: ${DEFAULT-VALUE}).")
    double sigmaStart = D.sigmaStart();

    @Option(names = "--sigma-end", description = "Stop below this sigma_hat (default: ${DEFAULT-VALUE}).")
    double sigmaEnd = D.sigmaEnd();

    @Option(names = "--max-steps", description = "Steps at most (default: ${DEFAULT-VALUE}).")
    int maxSteps = D.maxSteps();

    @Option(names = "--fixed-step", description = "Use h0 for every step instead of the growing schedule.")
    boolean fixedStep = D.fixedStep();

    @Option(names = "--seed", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed = D.seed();

    SamplerConfig config() {
        return SamplerConfig.builder().h0(h0).beta(beta).sigmaStart(sigmaStart).sigmaEnd(sigmaEnd).maxSteps(maxSteps)
                .fixedStep(fixedStep).seed(seed).build();
    }
}
