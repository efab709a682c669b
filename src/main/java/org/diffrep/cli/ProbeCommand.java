package org.diffrep.cli;

import org.diffrep.extract.FeatureStore;
import org.diffrep.study.ProbeStudy;
import org.diffrep.study.ProbeStudyReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** {@code diffrep probe}: linear (or BN-linear, MLP) probes per noise level of a feature store. */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = {"Fit a probe per noise level on a feature store's training split, score it on the test split,"
                + " and the soft-voting ensemble around the best noise level.",
                "Writes probe.json and accuracy_vs_sigma.png/.svg into --out; the table goes to stdout."})
final class ProbeCommand implements Runnable {

    @Option(names = "--features", required = true, paramLabel = "DIR", description = "Feature store (from diffrep extract).")
    Path features;

    @Option(names = "--layer", split = ",", paramLabel = "L", description = "Layers to probe (default: all in the store).")
    List<String> layers = List.of();

    @Mixin
    ProbeOptions probe;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public void run() {
        ProbeStudy.Settings settings = probe.settings();
        FeatureStore store = FeatureStore.open(features);
        createDirectories(out);
        ProbeStudy.Report report = ProbeStudy.run(store, layers, settings, System.err);
        ProbeStudyReport.print(System.out, store.dir().toString(), report);
        ProbeStudyReport.write(out, "probe.json", "accuracy_vs_sigma", report,
                List.of(new ProbeStudyReport.Titled(store.settings().input() + " input", report)));
        System.out.println("wrote " + out.resolve("probe.json") + " and " + out.resolve("accuracy_vs_sigma.png"));
    }

    /** Creates the output directory before any work: a file in the way or no permission is an input error. */
    static void createDirectories(Path dir) {
        org.diffrep.analysis.OutputFiles.directory(dir);
    }
}
