package org.diffrep.cli;

import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.InputMode;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The input mode and store directory of {@code extract}, shared with Spark's {@code SparkExtract} so that
 * both spell and document them once ({@code sweep} has its own: its --out is a report directory).
 */
public final class StoreOptions {

    @Option(names = "--input", paramLabel = "MODE",
            description = "clean (eps = 0, conditioned on sigma) or noisy (default: ${DEFAULT-VALUE}).")
    InputMode input = ExtractConfig.DEFAULTS.input();


    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Store directory (new or empty).")
    Path out;

    /** {@code b} with the input mode and store directory set. */
    public ExtractConfig.Builder apply(ExtractConfig.Builder b) {
        return b.input(input).out(out);
    }
}
