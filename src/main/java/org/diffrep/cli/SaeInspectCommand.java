package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.report.OutputChecks;
import org.diffrep.model.ModelFiles;
import org.diffrep.sae.LatentInspector;
import org.diffrep.sae.SaeInput;
import org.diffrep.sae.TokenImages;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.TopKSae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code diffrep sae inspect}: montages and class distributions of the most used latents, as a web page. */
@Command(name = "inspect", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"For the most frequently active latents: a montage of the top-activating images, the activation "
                + "frequency and the class distribution of those images; OUT/index.html shows them all.",
                "Token SAEs: the images whose map holds the largest activation, with the activation map as a heat map "
                        + "over each; rows from a --pool none store (--features) or the model (--model, or the SAE's)."})
final class SaeInspectCommand implements Callable<Integer> {

    @Option(names = "--sae", required = true, paramLabel = "FILE", description = "SAE file from 'sae train'.")
    Path saeFile;
    @Option(names = "--features", paramLabel = "DIR", description = "Feature store the SAE reads (a --pool none store "
            + "for a token SAE).")
    Path features;
    @Option(names = "--model", paramLabel = "FILE", description = "Token SAE without a store: the model to stream tokens "
            + "from (default: the one the SAE was trained on, when it was trained with --model).")
    Path model;
    @Option(names = "--limit", defaultValue = "0", description = "With a model: only the first N images (0: all).")
    long limit;
    @Option(names = "--order", defaultValue = "frequency", description = "Token SAE: which latents to show: frequency "
            + "(most often active) or purity (top images most of one class).")
    String order;
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
        if (SaeInput.isTokens(loaded.metadata())) {
            LatentInspector.Order o = switch (order) {
                case "frequency" -> LatentInspector.Order.FREQUENCY;
                case "purity" -> LatentInspector.Order.PURITY;
                default -> throw new InvalidInputException("--order: expected frequency or purity, got '" + order + "'");
            };
            TokenImages in = tokenImages(loaded, saeFile, features, model, data, layer, sigma, limit, 64);
            List<LatentInspector.TokenLatent> l = LatentInspector.inspectTokens(loaded.sae(), in, DataSpec.open(data),
                    latents, top, o, out, System.out);
            System.out.printf("%-8s %10s %10s  %s%n", "latent", "images", "tokens", "classes of the top images");
            for (LatentInspector.TokenLatent x : l) {
                System.out.printf("%-8d %9.2f%% %9.2f%%  %s%n", x.latent(), 100 * x.frequency(), 100 * x.tokenFrequency(),
                        x.classCounts());
            }
            return 0;
        }
        if (features == null) {
            throw new InvalidInputException("--features: " + saeFile + " was trained on pooled rows of a store; give the store");
        }
        SaeFeatures in = open(loaded, saeFile, features, layer, sigma);
        List<LatentInspector.Latent> l = LatentInspector.inspect(loaded.sae(), in, DataSpec.open(data), latents, top, out,
                System.out);
        System.out.printf("%-8s %10s  %s%n", "latent", "frequency", "classes of the top images");
        for (LatentInspector.Latent x : l) {
            System.out.printf("%-8d %9.2f%%  %s%n", x.latent(), 100 * x.frequency(), x.classCounts());
        }
        return 0;
    }

    /**
     * The images whose tokens a token SAE encodes: a {@code --pool none} store's ({@code features}), or streamed from
     * {@code model} through {@code data} (each defaulting to what the SAE file records), split as the SAE's training
     * split them.
     */
    static TokenImages tokenImages(TopKSae.Loaded sae, Path saeFile, Path features, Path model, String data, String layer,
                                   Float sigma, long limit, int imageBatch) throws java.io.IOException {
        Map<String, String> meta = sae.metadata();
        TokenImages in;
        if (features != null) {
            in = TokenImages.of(open(sae, saeFile, features, layer, sigma));
        } else {
            Path m = model != null ? model : meta.get("model") == null ? null : Path.of(meta.get("model"));
            String d = data != null ? data : meta.get("data");
            if (m == null || d == null) {
                throw new InvalidInputException("--features or --model: " + saeFile + " records no model; give the "
                        + "--pool none store (--features) or --model and --data");
            }
            String l = layer != null ? layer : meta.get("layer");
            Float s = sigma != null ? sigma : recordedSigma(sae, saeFile);
            Double frac = meta.get("train_frac") == null ? null : Double.valueOf(meta.get("train_frac"));
            long seed = meta.get("split_seed") == null ? 0 : Long.parseLong(meta.get("split_seed"));
            long lim = limit > 0 ? limit : meta.get("limit") == null ? 0 : Long.parseLong(meta.get("limit"));
            in = TokenImages.of(ModelFiles.load(m), m, DataSpec.open(d), l, s, frac, seed, lim, imageBatch);
        }
        if (in.rows().width() != sae.sae().config().inputDim()) {
            throw new InvalidInputException(in.rows().source() + ": tokens have " + in.rows().width()
                    + " channels, the SAE was trained on tokens of " + sae.sae().config().inputDim());
        }
        return in;
    }

    private static float recordedSigma(TopKSae.Loaded sae, Path saeFile) {
        String recorded = sae.metadata().get("sigma");
        if (recorded == null) {
            throw new InvalidInputException("--sigma: " + saeFile + " records no sigma; give --sigma");
        }
        try {
            return Float.parseFloat(recorded);
        } catch (NumberFormatException e) {
            throw new InvalidInputException(saeFile + ": metadata 'sigma' must be a number, found '" + recorded
                    + "'; give --sigma");
        }
    }

    /** The store's rows at the given layer and sigma, defaulting to those recorded in the SAE file. */
    static SaeFeatures open(TopKSae.Loaded sae, Path saeFile, Path features, String layer, Float sigma) {
        String l = layer != null ? layer : sae.metadata().get("layer");
        if (l == null) {
            throw new InvalidInputException("--layer: " + saeFile + " records no layer; give --layer");
        }
        Float s = sigma != null ? sigma : recordedSigma(sae, saeFile);
        SaeFeatures in = SaeFeatures.open(features, l, s, null);
        if (!SaeInput.isTokens(sae.metadata()) && in.features().size(1) != sae.sae().config().inputDim()) {
            throw new InvalidInputException(in.source() + ": rows have " + in.features().size(1)
                    + " values, the SAE was trained on rows of " + sae.sae().config().inputDim());
        }
        return in;
    }
}
