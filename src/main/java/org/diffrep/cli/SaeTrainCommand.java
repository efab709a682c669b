package org.diffrep.cli;

import org.diffrep.io.Json;
import org.diffrep.report.OutputChecks;
import org.diffrep.sae.SaeConfig;
import org.diffrep.sae.SaeEvaluation;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.SaeTrainer;
import org.diffrep.sae.SaeTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code diffrep sae train}: trains a TopK SAE on one layer and sigma of a feature store; defaults from {@link SaeConfig}. */
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Train a TopK sparse autoencoder on the train split of one layer at one sigma; writes the "
                + "SAE (safetensors, configuration in the metadata) and OUT.metrics.json (curve, FVU/L0/dead on train and test).")
final class SaeTrainCommand implements Callable<Integer> {

    /** The defaults; the input width comes from the store (1 stands in for it here). */
    private static final SaeConfig D = SaeConfig.defaults(1);

    @Option(names = "--features", required = true, paramLabel = "DIR", description = "Feature store directory.")
    Path features;
    @Option(names = "--layer", required = true, paramLabel = "L", description = "Layer (tap) in the store.")
    String layer;
    @Option(names = "--sigma", paramLabel = "S", description = "Noise level, one of the store's sigmas.")
    Float sigma;
    @Option(names = "--sigma-index", paramLabel = "I", description = "Index into the store's sigmas (instead of --sigma).")
    Integer sigmaIndex;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output .safetensors file.")
    Path out;
    @Option(names = "--latents", description = "Number of latents.")
    int latents = D.latents();
    @Option(names = "--k", description = "Active latents per row (TopK).")
    int k = D.k();
    @Option(names = "--k-aux", description = "Dead latents in the AuxK loss.")
    int kAux = D.kAux();
    @Option(names = "--dead-after", description = "Rows without activation after which a latent counts as dead.")
    long deadAfter = D.deadAfter();
    @Option(names = "--auxk-alpha", description = "Weight of the AuxK loss.")
    double auxkAlpha = D.auxkAlpha();
    @Option(names = "--lr", description = "Adam learning rate.")
    double lr = D.lr();
    @Option(names = "--warmup", description = "Linear warm-up steps.")
    int warmup = D.warmup();
    @Option(names = "--batch", description = "Rows per step.")
    int batch = D.batch();
    @Option(names = "--steps", description = "Optimisation steps.")
    int steps = D.steps();
    @Option(names = "--seed", description = "Seed of initialisation and row order.")
    long seed = D.seed();
    @Option(names = "--no-relu", description = "No ReLU before TopK (codes may be negative).")
    boolean noRelu = !D.relu();
    @Option(names = "--mean-init", description = "Initialise b_dec at the mean instead of the geometric median.")
    boolean meanInit = !D.medianInit();
    @Option(names = "--log-every", defaultValue = "100", description = "Steps per logged metrics record.")
    int logEvery;

    @Override
    public Integer call() throws Exception {
        OutputChecks.file(out, "--out");
        Path json = SaeTraining.metricsFile(out);
        OutputChecks.file(json, "--out (its metrics)");
        SaeFeatures in = SaeFeatures.open(features, layer, sigma, sigmaIndex);
        SaeConfig config = SaeConfig.builder().inputDim((int) in.features().size(1)).latents(latents).k(k).kAux(kAux)
                .deadAfter(deadAfter).auxkAlpha(auxkAlpha).lr(lr).warmup(warmup).batch(batch).steps(steps).seed(seed)
                .relu(!noRelu).medianInit(!meanInit).build();
        long[] train = in.ids(true), test = in.ids(false);
        SaeTrainer.checkMemory(config, train.length);
        System.out.printf("sae train: %s layer %s sigma %s: %d train rows, %d test rows, width %d -> %d latents, k %d%n",
                features, layer, in.sigma(), train.length, test.length, config.inputDim(), latents, k);
        SaeTraining t = SaeTraining.run(in, config, System.out, logEvery);
        t.write(out);

        System.out.printf("%-6s %8s %8s %8s%n", "split", "FVU", "L0", "dead %");
        print("train", t.train());
        if (t.test() != null) {
            print("test", t.test());
        }
        System.out.printf("wrote %s and %s (%.0f samples/s)%n", out, json, t.result().samplesPerSecond());
        return 0;
    }

    private static void print(String name, SaeEvaluation e) {
        System.out.printf("%-6s %8.4f %8.2f %8.2f%n", name, e.fvu(), e.l0(), 100 * e.deadFraction());
    }
}
