package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.noise.SigmaGrid;
import org.diffrep.report.OutputChecks;
import org.diffrep.study.MemorisationStudy;
import org.diffrep.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code diffrep memorisation}: the generalisation diagnostic ({@link MemorisationStudy}); defaults are
 * {@link MemorisationStudy.Settings#DEFAULTS} and {@link TrainConfig#DEFAULTS}.
 */
@Command(name = "memorisation", mixinStandardHelpOptions = true,
        description = {"Generalisation against memorisation (Li et al.): trains the same UNet by the same recipe on "
                + "nested subsets of the training split, probes each model over the sigma grid (clean input) on one "
                + "fixed probe set from the test split, and measures memorisation: each model's samples against "
                + "their nearest training image (median d_train/d_heldout over an equal-size held-out set, and the "
                + "share of samples with d_train/d_second_train < 1/3) and the denoising MSE of training against "
                + "held-out images.",
                "Writes memorisation.json, memorisation.png/.svg, models/ (trained models, reused by a rerun with the "
                        + "same settings), features/ and samples/ (samples over their nearest training images) into --out."})
final class MemorisationCommand implements Callable<Integer> {

    private static final MemorisationStudy.Settings D = MemorisationStudy.Settings.DEFAULTS;
    private static final TrainConfig T = TrainConfig.DEFAULTS;

    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "Data spec, e.g. builtin:mnist.")
    String data;

    @Option(names = "--subsets", paramLabel = "N,N,...,all",
            description = "Nested training-subset sizes, increasing; 'all' is the whole training split (default: "
                    + "${DEFAULT-VALUE}).")
    String subsets = MemorisationStudy.describe(D.subsets()).replace(" ", "");

    @Option(names = "--channels", split = ",", description = "UNet channels per level (default: the UNet's, "
            + "${DEFAULT-VALUE}).")
    int[] channels = D.channels();

    @Option(names = "--steps", description = "Training steps of every model (default: ${DEFAULT-VALUE}).")
    int steps = T.steps();

    @Option(names = "--batch", description = "Images per training step (default: ${DEFAULT-VALUE}).")
    int batch = T.batch();

    @Option(names = "--lr", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr = T.lr();

    @Option(names = "--warmup", description = "Learning-rate warm-up steps (default: ${DEFAULT-VALUE}).")
    int warmup = T.warmupSteps();

    @Option(names = "--ema", description = "EMA decay per step (default: ${DEFAULT-VALUE}).")
    double ema = T.emaDecay();

    @Option(names = "--sigmas", paramLabel = "GRID", defaultValue = "default",
            description = "Noise levels of the probe curves: comma-separated, or 'default' (extract's grid).")
    String sigmas;

    @Option(names = "--layer", description = "Tap probed (default: ${DEFAULT-VALUE}).")
    String layer = D.layer();

    @Option(names = "--probe-images", description = "Test-split images in the probe set, split 80/20 for the "
            + "probes (default: ${DEFAULT-VALUE}).")
    int probeImages = D.probeImages();

    @Option(names = "--samples", description = "Samples per model for the memorisation measure (default: "
            + "${DEFAULT-VALUE}).")
    int samples = D.samples();

    @Option(names = "--mse-sigma", description = "Noise level of the training-vs-held-out denoising MSE (default: "
            + "${DEFAULT-VALUE}).")
    double mseSigma = D.mseSigma();

    @Option(names = "--mse-images", description = "Images on each side of that MSE, at most (default: ${DEFAULT-VALUE}).")
    int mseImages = D.mseImages();

    @Mixin
    SamplerOptions sampler;

    @Mixin
    ProbeOptions probe;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (reused by a rerun).")
    Path out;

    @Override
    public Integer call() {
        MemorisationStudy.Settings s = MemorisationStudy.Settings.builder().subsets(parseSubsets(subsets))
                .channels(channels)
                .train(T.toBuilder().steps(steps).batch(batch).lr(lr).warmupSteps(warmup).emaDecay(ema)
                        .seed(sampler.seed).build())
                .sigmas(grid()).layer(layer).probeImages(probeImages).samples(samples).sampler(sampler.config())
                .mseSigma(mseSigma).mseImages(mseImages).seed(sampler.seed).probe(probe.settings()).build();
        OutputChecks.directory(out, "--out");
        Dataset ds = DataSpec.open(data);
        long t0 = System.nanoTime();
        MemorisationStudy.Report r = MemorisationStudy.run(ds, s, out, System.err);
        MemorisationStudy.print(System.out, r);
        System.out.printf("%.1f s; wrote %s and %s%n", (System.nanoTime() - t0) / 1e9, out.resolve("memorisation.json"),
                out.resolve("memorisation.png"));
        return 0;
    }

    private float[] grid() {
        double[] g = (sigmas.equals("default") ? SigmaGrid.defaults() : SigmaGrid.parse(sigmas)).sigmas();
        float[] f = new float[g.length];
        for (int i = 0; i < g.length; i++) {
            f[i] = (float) g[i];
        }
        return f;
    }

    static int[] parseSubsets(String spec) {
        try {
            return Arrays.stream(spec.split(",", -1)).map(String::trim)
                    .mapToInt(t -> t.equalsIgnoreCase("all") ? 0 : Math.max(-1, Integer.parseInt(t) == 0 ? -1
                            : Integer.parseInt(t))).toArray(); // a literal 0 is not 'all': refused below
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--subsets: expected sizes and 'all' separated by commas (e.g. "
                    + "64,1000,all), got '" + spec + "'");
        }
    }
}
