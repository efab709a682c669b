package org.diffrep.cli;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.model.Denoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.reconstruct.GuidanceSettings;
import org.diffrep.reconstruct.ReconstructConfig;
import org.diffrep.reconstruct.Reconstruction;
import org.diffrep.reconstruct.Representation;
import org.diffrep.reconstruct.RepresentationGuidance;
import org.diffrep.reconstruct.RepresentationMetric;
import org.diffrep.report.OutputChecks;
import org.diffrep.probe.ProbeResult;
import org.diffrep.study.ReconstructionComparison;
import org.diffrep.study.ReconstructionStudy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code diffrep reconstruct}: stochastic samples steered toward a dataset image's representation; the
 * defaults are {@link ReconstructConfig#DEFAULTS} and its {@link GuidanceSettings#DEFAULTS}.
 */
@Command(name = "reconstruct", mixinStandardHelpOptions = true,
        description = {"Re-synthesise a dataset image from its representation (a tap's channel means): the stochastic "
                + "denoising sampler steered by the gradient of the representation distance; reconstruct.png "
                + "(target, then samples) and reconstruct.json (distances of samples and of random images).",
                "The default guidance is diffrep's own change to the paper's method (Kadkhodaie, Mallat and Simoncelli "
                        + "match the noisy sample's means to E_z m(x* + sigma z; sigma), Euclidean, gradient on y: "
                        + "--match noisy --metric euclidean): a DPS-style pull through the denoised estimate D(y) "
                        + "(the means of D(y; sigma_hat) against the target's, both on clean input at --match-sigma, "
                        + "the gradient through the denoiser), in a whitened (Mahalanobis) distance, sized relative to "
                        + "the denoiser's step.",
                "Several --model with --targets: every model on the same targets and seeds, one directory each, "
                        + "class-match rates with 95% Wilson intervals and each model against the first paired by "
                        + "target (comparison.json); a model already scored in --out/NAME (NAME: its file name without the extension) "
                        + "with the same settings, alone or in a comparison, is read back."})
public final class ReconstructCommand implements Callable<Integer> {

    private static final ReconstructConfig D = ReconstructConfig.DEFAULTS;
    private static final GuidanceSettings G = D.guidance();

    @Option(names = "--model", required = true, split = ",", paramLabel = "FILE",
            description = "Model file (safetensors or TorchScript), or builtin:unet-mnist (a small UNet trained on "
                    + "builtin:mnist, in the jar); repeat (or separate by commas) to compare models on the same "
                    + "targets (with --targets).")
    List<Path> models;

    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "Dataset holding the target.")
    String data;

    @Option(names = "--index", paramLabel = "I", description = "Dataset index of the target.")
    Integer index;

    @Option(names = "--targets", paramLabel = "N",
            description = "Instead of --index: N random targets, each sample classified by 3-NN on real images, by "
                    + "pixels and by representation; study.json (rates of the target's class against chance), study.png, "
                    + "samples.npy, targets.npy, predicted.npy.")
    Integer targets;

    @Option(names = "--knn-images",
            description = "Real images the 3-NN classifier of --targets uses (default: ${DEFAULT-VALUE}).")
    int knnImages = D.knnImages();

    @Option(names = "--samples", description = "Samples (default: ${DEFAULT-VALUE}).")
    int samples = D.samples();

    @Option(names = "--guidance",
            description = "lambda: each step subtracts a pull toward the target's representation of lambda "
                    + "times the denoiser step's length, along the gradient of the --metric distance between what "
                    + "--match compares; 0 samples unconditionally (default: ${DEFAULT-VALUE}).")
    double guidance = G.strength();

    @Option(names = "--tap", description = "Tap whose channel means are the representation (default: ${DEFAULT-VALUE}).")
    String tap = G.tap();

    @Option(names = "--rep-sigma", paramLabel = "S",
            description = "Noise level at which the reported distances are read (clean input; default: --match-sigma).")
    Float repSigma = D.repSigma();

    @Option(names = "--baseline", description = "Random dataset images for the baseline (default: ${DEFAULT-VALUE}).")
    int baseline = D.baseline();

    @Option(names = "--metric",
            description = "Distance the guidance pulls in: whitened (Mahalanobis, from the representation covariance "
                    + "of --metric-images dataset images, at --match-sigma for --match denoised, else at 8 noise "
                    + "levels) or euclidean (default: ${DEFAULT-VALUE}).")
    RepresentationMetric.Kind metric = G.metric();

    @Option(names = "--metric-images",
            description = "Dataset images (seeded random) for the whitened metric (default: ${DEFAULT-VALUE}).")
    int metricImages = G.metricImages();

    @Option(names = "--metric-shrink",
            description = "Ridge of the whitened metric, relative to the mean variance (default: ${DEFAULT-VALUE}).")
    double metricShrink = G.metricShrink();

    @Option(names = "--match",
            description = "What each step matches: noisy (the sample's representation against the mean over "
                    + "--target-draws noisy copies x + sigma z of the target), clean (against the clean target "
                    + "conditioned on sigma) or denoised (the representation of the denoised estimate D(y) against the "
                    + "target's, both read at --match-sigma, the gradient through the denoiser) (default: ${DEFAULT-VALUE}).")
    RepresentationGuidance.Match match = G.match();

    @Option(names = "--match-sigma",
            description = "Noise level both representations are read at with --match denoised (default: ${DEFAULT-VALUE}).")
    double matchSigma = G.matchSigma();

    @Option(names = "--guide-until",
            description = "Stop pulling a sample once its noise level sigma_hat is below this (default: ${DEFAULT-VALUE}, pull to the end).")
    double guideUntil = G.untilSigma();

    @Option(names = "--target-draws",
            description = "Noisy copies of the target averaged per sample and step (default: ${DEFAULT-VALUE}).")
    int targetDraws = G.targetDraws();

    @Mixin
    SamplerOptions sampler;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public Integer call() {
        ReconstructConfig cfg = ReconstructConfig.builder().samples(samples).baseline(baseline).knnImages(knnImages)
                .repSigma(repSigma).sampler(sampler.config())
                .guidance(GuidanceSettings.builder().strength(guidance).tap(tap).metric(metric)
                        .metricImages(metricImages).metricShrink(metricShrink).match(match).matchSigma(matchSigma)
                        .untilSigma(guideUntil).targetDraws(targetDraws).build())
                .build();
        if ((index == null) == (targets == null)) {
            throw new InvalidInputException("give exactly one of --index I and --targets N");
        }
        OutputChecks.directory(out, "--out");
        if (models.size() > 1 && targets == null) {
            throw new InvalidInputException("several --model are compared on --targets N, not on one --index");
        }
        System.out.println("method: " + cfg.guidance().method());
        Dataset ds = DataSpec.open(data);
        long t0 = System.nanoTime();
        if (models.size() > 1) {
            ReconstructionComparison c = ReconstructionComparison.run(models, ds, targets, cfg, out, System.err);
            c.print(System.out);
            System.out.printf("%d models x %d targets x %d samples in %.1f s; wrote %s%n", models.size(), targets,
                    samples, (System.nanoTime() - t0) / 1e9, out.resolve("comparison.json"));
            return 0;
        }
        Path model = models.get(0);
        Denoiser d = ModelFiles.load(model);
        if (targets != null) {
            ReconstructionStudy st = ReconstructionStudy.run(d, ds, targets, cfg);
            st.write(out, ds);
            ReconstructionComparison.writeScores(out, model, ds, targets, cfg, st.outcome());
            double[] ci = ProbeResult.wilson95(st.matchRate(), st.sampleCount());
            double[] rci = ProbeResult.wilson95(st.representationMatchRate(), st.sampleCount());
            System.out.printf("%d targets x %d samples in %.1f s: %.1f%% [95%% Wilson %.1f, %.1f] of samples of the "
                            + "target's class by their pixels, %.1f%% [%.1f, %.1f] by their representation (chance "
                            + "%.1f%%; the representation classifier finds the class of %.1f%% of the targets "
                            + "themselves); wrote %s%n", targets, samples,
                    (System.nanoTime() - t0) / 1e9, 100 * st.matchRate(), 100 * ci[0], 100 * ci[1],
                    100 * st.representationMatchRate(), 100 * rci[0], 100 * rci[1],
                    100 * st.chanceRate(), 100 * st.representationAccuracyOnTargets(), out.resolve("study.json"));
            return 0;
        }
        Reconstruction r = Reconstruction.run(d, ds, index, cfg);
        r.write(out, ds);
        System.out.printf("target %d (label %d), %d samples in %.1f s, steps %s%n", index, r.label(), samples,
                (System.nanoTime() - t0) / 1e9, Arrays.toString(r.samples().steps()));
        System.out.printf("representation distance to the target: samples %.4f, random images %.4f (mean)%n",
                r.summary().get("mean_sample_distance"), r.summary().get("mean_baseline_distance"));
        System.out.println("wrote " + out.resolve("reconstruct.json"));
        return 0;
    }
}
