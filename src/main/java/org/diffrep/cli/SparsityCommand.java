package org.diffrep.cli;

import org.diffrep.analysis.ActiveChannels;
import org.diffrep.analysis.ChannelSparsity;
import org.diffrep.analysis.OutputFiles;
import org.diffrep.analysis.SparsityAnalysis;
import org.diffrep.extract.FeatureStore;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code diffrep sparsity}: active channels per image against sigma, and their overlap by class. */
@Command(name = "sparsity", mixinStandardHelpOptions = true,
        description = "Per image and sigma, how many channels of a layer are active, and the Jaccard overlap of "
                + "active sets within and between classes; sparsity.json, active_counts.npy and figures.")
public final class SparsityCommand implements Callable<Integer> {

    @Option(names = "--features", required = true, paramLabel = "DIR", description = "Feature store directory.")
    Path features;

    @Option(names = "--layer", defaultValue = "mid", paramLabel = "L", description = "Layer (default: ${DEFAULT-VALUE}).")
    String layer;

    static final class Rule {
        @Option(names = "--threshold", paramLabel = "T", description = "Active when the pooled value is above T.")
        Double threshold;

        @Option(names = "--mass", paramLabel = "M",
                description = "Active: the fewest channels holding share M of the positive mass (e.g. 0.9).")
        Double mass;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Rule rule;

    @Option(names = "--per-class", defaultValue = "" + SparsityAnalysis.DEFAULT_PER_CLASS,
            description = "Images per class sampled for the overlap matrix (default: ${DEFAULT-VALUE}).")
    int perClass;

    @Option(names = "--seed", defaultValue = "" + SparsityAnalysis.DEFAULT_SEED, description = "Seed of the overlap sample (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public Integer call() {
        ActiveChannels r = rule == null || (rule.threshold == null && rule.mass == null)
                ? ActiveChannels.DEFAULT
                : new ActiveChannels(rule.threshold, rule.mass);
        FeatureStore store = FeatureStore.open(features);
        OutputFiles.directory(out);
        SparsityAnalysis a = SparsityAnalysis.run(store, layer, r, perClass, seed);
        a.write(out);
        System.out.printf("%12s %12s %10s %10s %10s%n", "sigma", "mean active", "std", "within", "between");
        for (ChannelSparsity c : a.perSigma()) {
            System.out.printf("%12.4g %12.2f %10.2f %10.4f %10.4f%n", c.sigma(), c.meanActive(), c.stdActive(),
                    c.withinOverlap(), c.betweenOverlap());
        }
        System.out.println("active channels: " + r.describe() + "; wrote " + out.resolve("sparsity.json"));
        return 0;
    }
}
