package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.report.OutputChecks;
import org.diffrep.sae.LatentInspector;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.TopKSae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code diffrep sae inspect}: montages and class distributions of the most used latents, as a web page. */
@Command(name = "inspect", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "For the most frequently active latents: a montage of the top-activating images, the activation "
                + "frequency and the class distribution of those images; OUT/index.html shows them all.")
final class SaeInspectCommand implements Callable<Integer> {

    @Option(names = "--sae", required = true, paramLabel = "FILE", description = "SAE file from 'sae train'.")
    Path saeFile;
    @Option(names = "--features", required = true, paramLabel = "DIR", description = "Feature store the SAE reads.")
    Path features;
    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "The dataset the store was made from.")
    String data;
    @Option(names = "--layer", paramLabel = "L", description = "Layer (default: the SAE's).")
    String layer;
    @Option(names = "--sigma", paramLabel = "S", description = "Noise level (default: the SAE's).")
    Float sigma;
    @Option(names = "--latents", defaultValue = "32", description = "How many of the most used latents.")
    int latents;
    @Option(names = "--top", defaultValue = "16", description = "Top-activating images per latent.")
    int top;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (latents < 1 || top < 1) {
            throw new InvalidInputException("--latents and --top must be >= 1, got " + latents + " and " + top);
        }
        OutputChecks.directory(out, "--out");
        TopKSae.Loaded loaded = TopKSae.load(saeFile);
        SaeFeatures in = open(loaded, saeFile, features, layer, sigma);
        List<LatentInspector.Latent> l = LatentInspector.inspect(loaded.sae(), in, DataSpec.open(data), latents, top, out,
                System.out);
        System.out.printf("%-8s %10s  %s%n", "latent", "frequency", "classes of the top images");
        for (LatentInspector.Latent x : l) {
            System.out.printf("%-8d %9.2f%%  %s%n", x.latent(), 100 * x.frequency(), x.classCounts());
        }
        return 0;
    }

    /** The store's rows at the given layer and sigma, defaulting to those recorded in the SAE file. */
    static SaeFeatures open(TopKSae.Loaded sae, Path saeFile, Path features, String layer, Float sigma) {
        String l = layer != null ? layer : sae.metadata().get("layer");
        if (l == null) {
            throw new InvalidInputException("--layer: " + saeFile + " records no layer; give --layer");
        }
        Float s = sigma;
        if (s == null) {
            String recorded = sae.metadata().get("sigma");
            if (recorded == null) {
                throw new InvalidInputException("--sigma: " + saeFile + " records no sigma; give --sigma");
            }
            try {
                s = Float.parseFloat(recorded);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(saeFile + ": metadata 'sigma' must be a number, found '" + recorded
                        + "'; give --sigma");
            }
        }
        SaeFeatures in = SaeFeatures.open(features, l, s, null);
        if (in.features().size(1) != sae.sae().config().inputDim()) {
            throw new InvalidInputException(in.source() + ": rows have " + in.features().size(1)
                    + " values, the SAE was trained on rows of " + sae.sae().config().inputDim());
        }
        return in;
    }
}
