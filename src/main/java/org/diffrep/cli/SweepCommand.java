package org.diffrep.cli;

import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.InputMode;
import org.diffrep.extract.Pooling;
import org.diffrep.extract.SplitSelection;
import org.diffrep.noise.SigmaGrid;
import org.diffrep.probe.ProbeStudy;
import org.diffrep.report.ProbeStudyReport;
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

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "Model file (safetensors).")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "Dataset spec, e.g. idx:../shared/data/mnist.")
    String data;

    @Option(names = "--layers", split = ",", paramLabel = "TAP", defaultValue = "mid",
            description = "Taps to probe (default: ${DEFAULT-VALUE}).")
    List<String> layers;

    @Option(names = "--sigmas", paramLabel = "GRID", defaultValue = "default",
            description = "Noise levels: default (10 levels 0.002..3.257), a list, edm:N or log:MIN,MAX,N (default: ${DEFAULT-VALUE}).")
    String sigmas;

    @Option(names = "--input", paramLabel = "MODE", defaultValue = "clean",
            description = "clean, noisy or both (side by side) (default: ${DEFAULT-VALUE}).")
    String input;

    @Option(names = "--noise-draws", paramLabel = "R", defaultValue = "1", description = "Noisy mode: noise draws averaged (default: ${DEFAULT-VALUE}).")
    int noiseDraws;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Noise and split seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "At most N images (default: all).")
    long limit;

    @Option(names = "--train-frac", paramLabel = "F",
            description = "Train share of the split (default: the dataset's own split, else 0.8).")
    Double trainFrac;

    @Mixin
    ProbeOptions probe;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--resume", description = "Continue feature stores in --out made with the same settings.")
    boolean resume;

    @Override
    public void run() {
        ProbeStudy.Settings settings = probe.settings();
        List<InputMode> modes = switch (input) {
            case "both" -> List.of(InputMode.CLEAN, InputMode.NOISY);
            default -> List.of(InputMode.parse(input));
        };
        SigmaGrid grid = sigmas.equals("default") ? SigmaGrid.defaults() : SigmaGrid.parse(sigmas);
        ProbeCommand.createDirectories(out);
        Map<String, Object> json = new LinkedHashMap<>();
        List<ProbeStudyReport.Titled> studies = new ArrayList<>();
        for (InputMode mode : modes) {
            String name = mode.name().toLowerCase();
            Path storeDir = out.resolve("features-" + name);
            boolean complete = resume && storeDir.resolve("manifest.json").toFile().exists()
                    && FeatureStore.open(storeDir, true).manifest().complete();
            if (!complete) {
                ExtractConfig cfg = ExtractConfig.builder()
                        .model(model).data(data).layers(layers).sigmas(grid).input(mode).noiseDraws(noiseDraws)
                        .pool(Pooling.MEAN).batch(batch).seed(seed).limit(limit).split(SplitSelection.ALL)
                        .trainFrac(trainFrac).out(storeDir).resume(resume).build();
                new Extractor(cfg).run();
            }
            ProbeStudy.Report report = ProbeStudy.run(FeatureStore.open(storeDir), layers, settings, System.err);
            ProbeStudyReport.print(System.out, name + " input", report);
            json.put(name, report);
            studies.add(new ProbeStudyReport.Titled(name + " input", report));
        }
        ProbeStudyReport.write(out, "sweep.json", "accuracy_vs_sigma", json, studies);
        System.out.println("wrote " + out.resolve("sweep.json") + " and " + out.resolve("accuracy_vs_sigma.png"));
    }
}
