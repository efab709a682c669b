package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.report.OutputChecks;
import org.diffrep.sae.SaeEncoder;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.TopKSae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code diffrep sae encode}: SAE codes of every row of a store, written as a feature store. */
@Command(name = "encode", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Encode the SAE's layer and sigma of a feature store; OUT is a feature store of the codes "
                + "(dense features/LAYER/sigma_0.npy and sparse topk/LAYER/sigma_0.{indices,values}.npy), same labels and split.")
final class SaeEncodeCommand implements Callable<Integer> {

    @Option(names = "--sae", required = true, paramLabel = "FILE", description = "SAE file from 'sae train'.")
    Path saeFile;
    @Option(names = "--features", required = true, paramLabel = "DIR", description = "Feature store to encode.")
    Path features;
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
        SaeFeatures in = SaeInspectCommand.open(loaded, saeFile, features, layer, sigma);
        SaeEncoder.encode(loaded.sae(), saeFile, in, out, batch, System.out);
        return 0;
    }
}
