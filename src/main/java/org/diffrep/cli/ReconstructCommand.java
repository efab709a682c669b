package org.diffrep.cli;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.model.Denoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.reconstruct.GuidanceSettings;
import org.diffrep.reconstruct.Reconstruction;
import org.diffrep.reconstruct.Representation;
import org.diffrep.reconstruct.RepresentationGuidance;
import org.diffrep.reconstruct.RepresentationMetric;
import org.diffrep.reconstruct.SamplerConfig;
import org.diffrep.reconstruct.StochasticSampler;
import org.diffrep.report.OutputChecks;
import org.diffrep.study.ReconstructionStudy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Callable;

/** {@code diffrep reconstruct}: stochastic samples steered toward a dataset image's representation. */
@Command(name = "reconstruct", mixinStandardHelpOptions = true,
        description = "Re-synthesise a dataset image from its representation (a tap's channel means): the stochastic "
                + "denoising sampler steered by the gradient of the representation distance; reconstruct.png "
                + "(target, then samples) and reconstruct.json (distances of samples and of random images).")
public final class ReconstructCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "Model file (safetensors).")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "Dataset holding the target.")
    String data;

    @Option(names = "--index", paramLabel = "I", description = "Dataset index of the target.")
    Integer index;

    @Option(names = "--targets", paramLabel = "N",
            description = "Instead of --index: N random targets, each sample classified by 3-NN on real images, by "
                    + "pixels and by representation; study.json (rates of the target's class against chance), study.png, "
                    + "samples.npy, targets.npy, predicted.npy.")
    Integer targets;

    @Option(names = "--knn-images", defaultValue = "2000",
            description = "Real images the 3-NN classifier of --targets uses (default: ${DEFAULT-VALUE}).")
    int knnImages;

    @Option(names = "--samples", defaultValue = "10", description = "Samples (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--guidance", defaultValue = "0.3",
            description = "lambda: each step subtracts a pull toward the target's representation of lambda "
                    + "times the denoiser step's length, along the gradient of the --metric distance between what "
                    + "--match compares; 0 samples unconditionally (default: ${DEFAULT-VALUE}).")
    double guidance;

    @Option(names = "--tap", defaultValue = Representation.DEFAULT_TAP, description = "Tap whose channel means are "
            + "the representation (default: ${DEFAULT-VALUE}).")
    String tap;

    @Option(names = "--rep-sigma", paramLabel = "S",
            description = "Noise level at which the reported distances are read (clean input; default: --match-sigma).")
    Float repSigma;

    @Option(names = "--baseline", defaultValue = "50", description = "Random dataset images for the baseline (default: ${DEFAULT-VALUE}).")
    int baseline;

    @Option(names = "--metric", defaultValue = "whitened",
            description = "Distance the guidance pulls in: whitened (Mahalanobis, from the representation covariance "
                    + "of --metric-images dataset images, at --match-sigma for --match denoised, else at 8 noise "
                    + "levels) or euclidean (default: ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--metric-images", defaultValue = "512",
            description = "Dataset images (seeded random) for the whitened metric (default: ${DEFAULT-VALUE}).")
    int metricImages;

    @Option(names = "--metric-shrink", defaultValue = "" + RepresentationMetric.SHRINK,
            description = "Ridge of the whitened metric, relative to the mean variance (default: ${DEFAULT-VALUE}).")
    double metricShrink;

    @Option(names = "--match", defaultValue = "denoised",
            description = "What each step matches: noisy (the sample's representation against the mean over "
                    + "--target-draws noisy copies x + sigma z of the target), clean (against the clean target "
                    + "conditioned on sigma) or denoised (the representation of the denoised estimate D(y) against the "
                    + "target's, both read at --match-sigma, the gradient through the denoiser) (default: ${DEFAULT-VALUE}).")
    String match;

    @Option(names = "--match-sigma", defaultValue = "2.0",
            description = "Noise level both representations are read at with --match denoised (default: ${DEFAULT-VALUE}).")
    double matchSigma;

    @Option(names = "--guide-until", defaultValue = "0",
            description = "Stop pulling a sample once its noise level sigma_hat is below this (default: ${DEFAULT-VALUE}, pull to the end).")
    double guideUntil;

    @Option(names = "--target-draws", defaultValue = "4",
            description = "Noisy copies of the target averaged per sample and step (default: ${DEFAULT-VALUE}).")
    int targetDraws;

    @Mixin
    SamplerOptions sampler;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public Integer call() {
        SamplerConfig cfg = sampler.config();
        if ((index == null) == (targets == null)) {
            throw new InvalidInputException("give exactly one of --index I and --targets N");
        }
        if (samples < 1 || baseline < 0 || knnImages < 3) {
            throw new InvalidInputException("--samples must be >= 1, --baseline >= 0 and --knn-images >= 3, got "
                    + samples + ", " + baseline + " and " + knnImages);
        }
        OutputChecks.directory(out, "--out");
        Dataset ds = DataSpec.open(data);
        Denoiser d = ModelFiles.load(model);
        StochasticSampler.checkMemory(d, (double) samples * ("noisy".equals(match) ? targetDraws : 1),
                guidance == 0 ? 1 : 3, "--samples " + samples + ("noisy".equals(match) ? " --target-draws " + targetDraws : ""));
        long t0 = System.nanoTime();
        RepresentationMetric m = switch (metric) {
            case "euclidean" -> null;
            case "whitened" -> whitened(d, ds, cfg);
            default -> throw new InvalidInputException("--metric must be whitened or euclidean, got '" + metric + "'");
        };
        GuidanceSettings guide = new GuidanceSettings(guidance, tap, RepresentationGuidance.Scaling.NORMALISED, m,
                match(), targetDraws, matchSigma, guideUntil);
        if (targets != null) {
            ReconstructionStudy st = ReconstructionStudy.run(d, ds, targets, samples, guide, reportSigma(), cfg,
                    baseline, knnImages);
            st.write(out, ds);
            System.out.printf("%d targets x %d samples in %.1f s: %.1f%% of samples of the target's class by their "
                            + "pixels, %.1f%% by their representation (chance %.1f%%; the representation classifier "
                            + "finds the class of %.1f%% of the targets themselves); wrote %s%n", targets, samples,
                    (System.nanoTime() - t0) / 1e9, 100 * st.matchRate(), 100 * st.representationMatchRate(),
                    100 * st.chanceRate(), 100 * st.representationAccuracyOnTargets(), out.resolve("study.json"));
            return 0;
        }
        Reconstruction r = Reconstruction.run(d, ds, index, samples, guide, reportSigma(), cfg, baseline);
        r.write(out, ds);
        System.out.printf("target %d (label %d), %d samples in %.1f s, steps %s%n", index, r.label(), samples,
                (System.nanoTime() - t0) / 1e9, Arrays.toString(r.samples().steps()));
        System.out.printf("representation distance to the target: samples %.4f, random images %.4f (mean)%n",
                r.summary().get("mean_sample_distance"), r.summary().get("mean_baseline_distance"));
        System.out.println("wrote " + out.resolve("reconstruct.json"));
        return 0;
    }

    private float reportSigma() {
        float s = repSigma != null ? repSigma : (float) matchSigma;
        if (!(s > 0) || Float.isInfinite(s)) {
            throw new InvalidInputException("--rep-sigma must be > 0, got " + s);
        }
        return s;
    }

    private RepresentationGuidance.Match match() {
        return switch (match) {
            case "noisy" -> RepresentationGuidance.Match.NOISY;
            case "clean" -> RepresentationGuidance.Match.CLEAN;
            case "denoised" -> RepresentationGuidance.Match.DENOISED;
            default -> throw new InvalidInputException("--match must be noisy, clean or denoised, got '" + match + "'");
        };
    }

    private RepresentationMetric whitened(Denoiser d, Dataset ds, SamplerConfig cfg) {
        if (metricImages < 2 || metricImages > ds.size()) {
            throw new InvalidInputException("--metric-images must be in [2, " + ds.size() + "], got " + metricImages);
        }
        Random rng = new Random(cfg.seed() ^ 0x3e7L);
        long[] idx = rng.longs(0, ds.size()).distinct().limit(metricImages).toArray();
        Representation.checkTap(d, tap);
        try (PointerScope scope = new PointerScope()) {
            Tensor images = ds.batch(idx).images();
            return "denoised".equals(match)
                    ? RepresentationMetric.estimate(d, tap, images, matchSigma, matchSigma, 1, metricShrink)
                    : RepresentationMetric.estimate(d, tap, images, cfg.sigmaEnd(), cfg.sigmaStart(), 8, metricShrink);
        } catch (InvalidInputException e) {
            if (!"images".equals(e.field())) {
                throw e;
            }
            throw new InvalidInputException("--metric whitened: " + e.getMessage() + "; raise --metric-images", e);
        }
    }
}
