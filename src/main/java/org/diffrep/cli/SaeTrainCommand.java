package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.io.Json;
import org.diffrep.model.ModelFiles;
import org.diffrep.report.OutputChecks;
import org.diffrep.sae.SaeConfig;
import org.diffrep.sae.SaeEvaluation;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.SaeInput;
import org.diffrep.sae.SaeTrainer;
import org.diffrep.sae.SaeTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code diffrep sae train}: trains TopK SAEs on one layer and sigma of a feature store (pooled rows, or tokens of a
 * {@code --pool none} store), or on tokens streamed from a model; one SAE per k of {@code --k}. Defaults from
 * {@link SaeConfig}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Train a TopK sparse autoencoder on the train split of one layer at one sigma; writes the "
                + "SAE (safetensors, configuration in the metadata) and OUT.metrics.json (curve, FVU/L0/dead on train "
                + "and test, PCA with k components on the same rows).",
                "Rows: a store's rows (--features), each spatial position of a --pool none store's maps (--features "
                        + "--tokens), or tokens streamed from a model (--model --data --tokens; no store).",
                "Several k (--k 4,8,16,32): one SAE per k, OUT's name with .kK, and OUT.sweep.json with the table."})
final class SaeTrainCommand implements Callable<Integer> {

    /** The defaults; the input width comes from the data (1 stands in for it here). */
    private static final SaeConfig D = SaeConfig.defaults(1);

    @Option(names = "--features", paramLabel = "DIR", description = "Feature store directory.")
    Path features;
    @Option(names = "--model", paramLabel = "FILE", description = "Model to stream tokens from (with --data, --tokens).")
    Path model;
    @Option(names = "--data", paramLabel = "SPEC", description = "Images for --model, e.g. builtin:mnist.")
    String data;
    @Option(names = "--tokens", description = "Train on tokens: each spatial position's C channels is a row.")
    boolean tokens;
    @Option(names = "--layer", required = true, paramLabel = "L", description = "Layer (tap).")
    String layer;
    @Option(names = "--sigma", paramLabel = "S", description = "Noise level (one of the store's sigmas with --features).")
    Float sigma;
    @Option(names = "--sigma-index", paramLabel = "I", description = "Index into the store's sigmas (instead of --sigma).")
    Integer sigmaIndex;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output .safetensors file.")
    Path out;
    @Option(names = "--latents", description = "Number of latents.")
    int latents = D.latents();
    @Option(names = "--k", split = ",", paramLabel = "K", description = "Active latents per row (TopK); a list trains one SAE per k.")
    List<Integer> k = List.of(D.k());
    @Option(names = "--k-aux", paramLabel = "N", description = "Dead latents in the AuxK loss (default: D/2, capped by --latents).")
    Integer kAux;
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
    @Option(names = "--seed", description = "Seed of initialisation, row order and (with --model) the split.")
    long seed = D.seed();
    @Option(names = "--no-relu", description = "No ReLU before TopK (codes may be negative).")
    boolean noRelu = !D.relu();
    @Option(names = "--mean-init", description = "Initialise b_dec at the mean instead of the geometric median.")
    boolean meanInit = !D.medianInit();
    @Option(names = "--log-every", defaultValue = "100", description = "Steps per logged metrics record.")
    int logEvery;
    @Option(names = "--image-batch", defaultValue = "64", description = "With --model: images per forward.")
    int imageBatch;
    @Option(names = "--buffer-images", defaultValue = "512",
            description = "With --model: images whose tokens the shuffle buffer holds.")
    int bufferImages;
    @Option(names = "--train-frac", paramLabel = "F", description = "With --model: train share of the split (default 0.8, "
            + "or the dataset's own split), as extract uses it.")
    Double trainFrac;
    @Option(names = "--limit", defaultValue = "0", description = "With --model: only the first N images (0: all).")
    long limit;

    @Override
    public Integer call() throws Exception {
        if ((features == null) == (model == null)) {
            throw new InvalidInputException("give --features DIR (a feature store) or --model FILE --data SPEC (tokens "
                    + "streamed from the model), not " + (features == null ? "neither" : "both"));
        }
        if (model != null && (data == null || !tokens || sigma == null)) {
            throw new InvalidInputException("--model streams tokens: it needs --data SPEC, --sigma S and --tokens");
        }
        if (model == null && data != null) {
            throw new InvalidInputException("--data goes with --model; a feature store (--features) names its own data");
        }
        int[] ks = k.stream().mapToInt(Integer::intValue).toArray();
        if (ks.length == 0 || java.util.Arrays.stream(ks).distinct().count() != ks.length) {
            throw new InvalidInputException("--k: give one or more distinct values, got " + k);
        }
        List<Path> outs = new ArrayList<>();
        for (int kk : ks) {
            outs.add(ks.length == 1 ? out : SaeTraining.sweepFile(out, kk));
        }
        for (Path o : outs) {
            OutputChecks.file(o, "--out");
            OutputChecks.file(SaeTraining.metricsFile(o), "--out (its metrics)");
        }
        if (ks.length > 1) {
            OutputChecks.file(SaeTraining.sweepSummary(out), "--out (the sweep's summary)");
        }
        SaeInput input;
        if (model != null) {
            input = SaeInput.tokens(ModelFiles.load(model), model.toString(), DataSpec.open(data), layer, sigma, trainFrac,
                    seed, imageBatch, bufferImages, limit);
        } else {
            SaeFeatures in = SaeFeatures.open(features, layer, sigma, sigmaIndex);
            input = tokens ? SaeInput.tokens(in) : SaeInput.pooled(in);
        }
        SaeConfig.Builder b = SaeConfig.builder().inputDim(input.train().width()).latents(latents).kAuxDefault()
                .deadAfter(deadAfter).auxkAlpha(auxkAlpha).lr(lr).warmup(warmup).batch(batch).steps(steps).seed(seed)
                .relu(!noRelu).medianInit(!meanInit);
        if (kAux != null) {
            b.kAux(kAux);
        }
        SaeConfig config = null;
        for (int kk : ks) {
            config = b.k(kk).build();  // validates every k before any training
        }
        SaeTrainer.checkMemory(config, input.train().count());
        System.out.printf("sae train: %s: %d train rows, %d test rows, width %d -> %d latents, k %s, k_aux %d%n",
                input.train().source(), input.train().count(), input.test() == null ? 0 : input.test().count(),
                config.inputDim(), latents, k, config.kAux());
        List<SaeTraining> runs = SaeTraining.sweep(input, config, ks, System.out, logEvery, (i, t) -> {
            t.write(outs.get(i));  // each as soon as it is trained: a long sweep keeps what it finished
            if (ks.length > 1) {
                System.out.printf("sae train: k %d: FVU test %.4f (PCA-%d %.4f), dead in window %.2f%%, never active on "
                                + "test %.2f%% -> %s%n", ks[i], t.test() == null ? Double.NaN : t.test().fvu(), ks[i],
                        t.pca() == null ? Double.NaN : t.pca().testFvu(), 100 * t.result().deadInWindow(),
                        t.test() == null ? Double.NaN : 100 * t.test().deadFraction(), outs.get(i));
            }
        });

        System.out.printf("%-4s %-6s %8s %8s %8s %10s %12s%n", "k", "split", "FVU", "PCA-k", "L0", "dead %", "never act. %");
        List<Map<String, Object>> table = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            SaeTraining t = runs.get(i);
            print(ks[i], "train", t.train(), t.pca() == null ? Double.NaN : t.pca().trainFvu(), t.result().deadInWindow());
            if (t.test() != null) {
                print(ks[i], "test", t.test(), t.pca() == null ? Double.NaN : t.pca().testFvu(), Double.NaN);
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("k", ks[i]);
            row.put("sae", outs.get(i).toString());
            row.putAll(t.metrics(outs.get(i)));
            row.remove("history");
            table.add(row);
        }
        if (ks.length > 1) {
            Json.write(SaeTraining.sweepSummary(out), Map.of("runs", table));
            System.out.printf("wrote %d SAEs (%s ...) and %s%n", outs.size(), outs.get(0), SaeTraining.sweepSummary(out));
        } else {
            System.out.printf("wrote %s and %s (%.0f samples/s)%n", out, SaeTraining.metricsFile(out),
                    runs.get(0).result().samplesPerSecond());
        }
        return 0;
    }

    /** One table line; dead % is the training window's (train) and never active on the rows. */
    private static void print(int k, String name, SaeEvaluation e, double pca, double deadWindow) {
        System.out.printf("%-4d %-6s %8.4f %8.4f %8.2f %10s %12.2f%n", k, name, e.fvu(), pca, e.l0(),
                Double.isNaN(deadWindow) ? "" : String.format("%.2f", 100 * deadWindow), 100 * e.deadFraction());
    }
}
