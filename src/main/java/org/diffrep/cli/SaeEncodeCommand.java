package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.report.OutputChecks;
import org.diffrep.sae.SaeEncoder;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.SaeInput;
import org.diffrep.sae.TokenImages;
import org.diffrep.sae.TopKSae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code diffrep sae encode}: SAE codes of every row of a store, written as a feature store. */
@Command(name = "encode", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Encode the SAE's layer and sigma of a feature store; OUT is a feature store of the codes "
                + "(dense features/LAYER/sigma_0.npy and sparse topk/LAYER/sigma_0.{indices,values}.npy), same labels and split.",
                "Token SAEs: every token of every image is encoded and OUT holds the codes pooled per image over its "
                        + "positions, layers LAYER.max and LAYER.mean [N, latents]; rows from a --pool none store "
                        + "(--features) or the model (--model, or the SAE's)."})
final class SaeEncodeCommand implements Callable<Integer> {

    @Option(names = "--sae", required = true, paramLabel = "FILE", description = "SAE file from 'sae train'.")
    Path saeFile;
    @Option(names = "--features", paramLabel = "DIR", description = "Feature store to encode (a --pool none store for a "
            + "token SAE).")
    Path features;
    @Option(names = "--model", paramLabel = "FILE", description = "Token SAE without a store: the model to stream tokens "
            + "from (default: the SAE's, when it was trained with --model).")
    Path model;
    @Option(names = "--data", paramLabel = "SPEC", description = "With --model: the images (default: the SAE's).")
    String data;
    @Option(names = "--limit", defaultValue = "0", description = "With a model: only the first N images (0: all).")
    long limit;
    @Option(names = "--layer", paramLabel = "L", description = "Layer (default: the one the SAE was trained on).")
    String layer;
    @Option(names = "--sigma", paramLabel = "S", description = "Noise level (default: the SAE's).")
    Float sigma;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "New or empty output directory.")
    Path out;
    @Option(names = "--batch", defaultValue = "1024", description = "Rows per batch.")
    int batch;

    @Override
    public Integer call() throws Exception {
        if (batch < 1) {
            throw new InvalidInputException("--batch must be >= 1, got " + batch);
        }
        OutputChecks.directory(out, "--out");
        TopKSae.Loaded loaded = TopKSae.load(saeFile);
        if (SaeInput.isTokens(loaded.metadata())) {
            TokenImages in = SaeInspectCommand.tokenImages(loaded, saeFile, features, model, data, layer, sigma, limit, 64);
            SaeEncoder.encodeTokens(loaded.sae(), saeFile, in, out, batch, System.out);
            return 0;
        }
        if (features == null) {
            throw new InvalidInputException("--features: " + saeFile + " was trained on pooled rows of a store; give the store");
        }
        SaeFeatures in = SaeInspectCommand.open(loaded, saeFile, features, layer, sigma);
        SaeEncoder.encode(loaded.sae(), saeFile, in, out, batch, System.out);
        return 0;
    }
}
