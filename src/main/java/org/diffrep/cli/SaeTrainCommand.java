package org.diffrep.cli;

import org.diffrep.io.Json;
import org.diffrep.report.OutputChecks;
import org.diffrep.sae.SaeConfig;
import org.diffrep.sae.SaeEvaluation;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.SaeTrainer;
import org.diffrep.sae.TopKSae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code diffrep sae train}: trains a TopK SAE on one layer and sigma of a feature store. */
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Train a TopK sparse autoencoder on the train split of one layer at one sigma; writes the "
                + "SAE (safetensors, configuration in the metadata) and OUT.metrics.json (curve, FVU/L0/dead on train and test).")
final class SaeTrainCommand implements Callable<Integer> {

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
    @Option(names = "--latents", defaultValue = "" + SaeConfig.DEFAULT_LATENTS, description = "Number of latents.")
    int latents;
    @Option(names = "--k", defaultValue = "" + SaeConfig.DEFAULT_K, description = "Active latents per row (TopK).")
    int k;
    @Option(names = "--k-aux", defaultValue = "" + SaeConfig.DEFAULT_K_AUX, description = "Dead latents in the AuxK loss.")
    int kAux;
    @Option(names = "--dead-after", defaultValue = "" + SaeConfig.DEFAULT_DEAD_AFTER,
            description = "Rows without activation after which a latent counts as dead.")
    long deadAfter;
    @Option(names = "--auxk-alpha", defaultValue = "0.03125", description = "Weight of the AuxK loss.")
    double auxkAlpha;
    @Option(names = "--lr", defaultValue = "" + SaeConfig.DEFAULT_LR, description = "Adam learning rate.")
    double lr;
    @Option(names = "--warmup", defaultValue = "" + SaeConfig.DEFAULT_WARMUP, description = "Linear warm-up steps.")
    int warmup;
    @Option(names = "--batch", defaultValue = "" + SaeConfig.DEFAULT_BATCH, description = "Rows per step.")
    int batch;
    @Option(names = "--steps", defaultValue = "" + SaeConfig.DEFAULT_STEPS, description = "Optimisation steps.")
    int steps;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialisation and row order.")
    long seed;
    @Option(names = "--no-relu", description = "No ReLU before TopK (codes may be negative).")
    boolean noRelu;
    @Option(names = "--mean-init", description = "Initialise b_dec at the mean instead of the geometric median.")
    boolean meanInit;
    @Option(names = "--log-every", defaultValue = "100", description = "Steps per logged metrics record.")
    int logEvery;

    @Override
    public Integer call() throws Exception {
        OutputChecks.file(out, "--out");
        Path json = out.resolveSibling(out.getFileName() + ".metrics.json");
        OutputChecks.file(json, "--out (its metrics)");
        SaeFeatures in = SaeFeatures.open(features, layer, sigma, sigmaIndex);
        SaeConfig config = new SaeConfig((int) in.features().size(1), latents, k, kAux, deadAfter, auxkAlpha, lr, warmup,
                batch, steps, seed, !noRelu, !meanInit);
        long[] train = in.ids(true), test = in.ids(false);
        SaeTrainer.checkMemory(config, train.length);
        System.out.printf("sae train: %s layer %s sigma %s: %d train rows, %d test rows, width %d -> %d latents, k %d%n",
                features, layer, in.sigma(), train.length, test.length, config.inputDim(), latents, k);
        SaeTrainer.Result r = new SaeTrainer(config, System.out, logEvery).train(in.features(), train, in.source());
        SaeEvaluation onTrain = SaeEvaluation.of(r.sae(), in.features(), train, 1024);
        SaeEvaluation onTest = test.length == 0 ? null : SaeEvaluation.of(r.sae(), in.features(), test, 1024);

        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("features", features.toString());
        meta.put("layer", layer);
        meta.put("sigma", Float.toString(in.sigma()));
        meta.put("sigma_index", Integer.toString(in.sigmaIndex()));
        meta.put("train_fvu", Double.toString(onTrain.fvu()));
        if (onTest != null) {
            meta.put("test_fvu", Double.toString(onTest.fvu()));
        }
        r.sae().save(out, meta);

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("sae", out.toString());
        report.put("config", config);
        report.put("input_scale", r.sae().inputScale());
        report.put("samples_per_second", r.samplesPerSecond());
        report.put("train", summary(onTrain));
        report.put("test", onTest == null ? null : summary(onTest));
        report.put("history", r.history());
        Json.write(json, report);

        System.out.printf("%-6s %8s %8s %8s%n", "split", "FVU", "L0", "dead %");
        print("train", onTrain);
        if (onTest != null) {
            print("test", onTest);
        }
        System.out.printf("wrote %s and %s (%.0f samples/s)%n", out, json, r.samplesPerSecond());
        return 0;
    }

    private static Map<String, Object> summary(SaeEvaluation e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rows", e.rows());
        m.put("fvu", e.fvu());
        m.put("l0", e.l0());
        m.put("dead_fraction", e.deadFraction());
        return m;
    }

    private static void print(String name, SaeEvaluation e) {
        System.out.printf("%-6s %8.4f %8.2f %8.2f%n", name, e.fvu(), e.l0(), 100 * e.deadFraction());
    }
}
