package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.analysis.FeatureComparison;
import org.diffrep.analysis.OutputFiles;
import org.diffrep.extract.FeatureStore;
import org.diffrep.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code diffrep compare}: sliced Wasserstein distance between two feature stores, per shared sigma. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Sliced Wasserstein distance between the features of two stores (e.g. a DAE and a diffusion "
                + "model) at every sigma both hold; a table on stdout and compare.json with --out.")
public final class CompareCommand implements Callable<Integer> {

    @Option(names = "--features", required = true, paramLabel = "DIR",
            description = "A feature store; give the option twice.")
    List<Path> features;

    @Option(names = "--layer", defaultValue = "mid", paramLabel = "L", description = "Layer (default: ${DEFAULT-VALUE}).")
    String layer;

    @Option(names = "--projections", defaultValue = "256", description = "Random directions (default: ${DEFAULT-VALUE}).")
    int projections;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the directions (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Directory for compare.json.")
    Path out;

    @Override
    public Integer call() {
        if (features.size() != 2) {
            throw new InvalidInputException("--features: give exactly two stores, got " + features.size());
        }
        FeatureStore a = FeatureStore.open(features.get(0));
        FeatureStore b = FeatureStore.open(features.get(1));
        if (out != null) {
            OutputFiles.directory(out);
        }
        FeatureComparison c = FeatureComparison.run(a, b, layer, projections, seed);
        System.out.printf("%12s %8s %8s %14s%n", "sigma", "N(A)", "N(B)", "sliced W2");
        for (FeatureComparison.Row r : c.rows()) {
            System.out.printf("%12.4g %8d %8d %14.6g%n", r.sigma(), r.countA(), r.countB(), r.swd());
        }
        if (out != null) {
            OutputFiles.directory(out);
            Json.write(out.resolve("compare.json"), c.summary());
            System.out.println("wrote " + out.resolve("compare.json"));
        }
        return 0;
    }
}
