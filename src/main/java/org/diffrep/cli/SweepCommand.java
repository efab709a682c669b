package org.diffrep.cli;

import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.InputMode;
import org.diffrep.study.ProbeStudy;
import org.diffrep.study.ProbeStudyReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code diffrep sweep}: extraction over the sigma grid plus probes, in one command. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Extract features over a sigma grid (clean and/or noisy input) and probe every noise level:"
                + " accuracy against sigma, its peak, and the soft-voting ensemble around it.",
                "Writes features-<input>/ (feature stores, resumable), sweep.json and accuracy_vs_sigma.png/.svg into --out."})
final class SweepCommand implements Runnable {

    @Mixin
    ExtractOptions extraction;

    /** The input modes a sweep runs: one of them, or both side by side. */
    enum Inputs {
        CLEAN, NOISY, BOTH;

        List<InputMode> modes() {
            return this == BOTH ? List.of(InputMode.CLEAN, InputMode.NOISY) : List.of(InputMode.valueOf(name()));
        }
    }

    @Option(names = "--input", paramLabel = "MODE",
            description = "clean, noisy or both (side by side) (default: ${DEFAULT-VALUE}).")
    Inputs input = Inputs.valueOf(ExtractConfig.DEFAULTS.input().name());

    @Mixin
    ProbeOptions probe;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public void run() {
        ProbeStudy.Settings settings = probe.settings();
        List<InputMode> modes = input.modes();
        ProbeCommand.createDirectories(out);
        Map<String, Object> json = new LinkedHashMap<>();
        List<ProbeStudyReport.Titled> studies = new ArrayList<>();
        for (InputMode mode : modes) {
            String name = mode.id();
            Path storeDir = out.resolve("features-" + name);
            boolean complete = extraction.resume && storeDir.resolve("manifest.json").toFile().exists()
                    && FeatureStore.open(storeDir, true).manifest().complete();
            if (!complete) {
                ExtractConfig cfg = extraction.builder().input(mode).out(storeDir).build();
                new Extractor(cfg).run();
            }
            ProbeStudy.Report report = ProbeStudy.run(FeatureStore.open(storeDir), extraction.layers, settings, System.err);
            ProbeStudyReport.print(System.out, name + " input", report);
            json.put(name, report);
            studies.add(new ProbeStudyReport.Titled(name + " input", report));
        }
        ProbeStudyReport.write(out, "sweep.json", "accuracy_vs_sigma", json, studies);
        System.out.println("wrote " + out.resolve("sweep.json") + " and " + out.resolve("accuracy_vs_sigma.png"));
    }
}
