package org.diffrep.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.data.Split;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.ModelSize;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.UNet;
import org.diffrep.report.OutputChecks;
import org.diffrep.train.DatasetImages;
import org.diffrep.train.DenoisingEval;
import org.diffrep.train.TrainConfig;
import org.diffrep.train.Trainer;
import org.diffrep.train.TrainingProgress;

/**
 * {@code diffrep train}: trains a UNet or MLP denoiser on a data set's training split; the defaults are
 * {@link TrainConfig#DEFAULTS} and those of {@link UNet.Config} and {@link MlpDenoiser.Config}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Train a diffusion denoiser (or a single-noise-level DAE) and save it as safetensors.")
final class TrainCommand implements Callable<Integer> {

    private static final TrainConfig D = TrainConfig.DEFAULTS;
    /** The architectures' defaults; the input shape comes from the data (MNIST's stands in for it here). */
    private static final UNet.Config U = UNet.Config.defaults(1, 28, 28);
    private static final MlpDenoiser.Config M = MlpDenoiser.Config.defaults(1, 28, 28);

    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "Data spec, e.g. builtin:mnist or idx:DIR.")
    String data;
    @Option(names = "--model", defaultValue = "unet", description = "unet or mlp.")
    String model;
    @Option(names = "--channels", split = ",", description = "UNet channels per level.")
    int[] channels = U.channels();
    @Option(names = "--blocks", description = "UNet residual blocks per level.")
    int blocks = U.blocks();
    @Option(names = "--attention", split = ",", description = "UNet resolutions with self-attention (padded size; one that no level has, e.g. 0, means none).")
    int[] attention = U.attention();
    @Option(names = "--depth", description = "MLP hidden layers.")
    int depth = M.depth();
    @Option(names = "--width", description = "MLP hidden width.")
    int width = M.width();
    @Option(names = "--activation", description = "MLP activation: relu or silu.")
    String activation = M.activation();
    @Option(names = "--embedding", description = "Noise embedding: sinusoidal, fourier (or scalar for mlp).")
    String embedding = U.embedding();
    @Option(names = "--embedding-dim", description = "MLP noise embedding width.")
    int embeddingDim = M.embeddingDim();
    @Option(names = "--parametrisation", description = "edm or vp (DDPM eps-prediction wrapped in EDM form).")
    Parametrisation parametrisation = U.parametrisation();
    @Option(names = "--loss", description = "edm (log-normal sigma, EDM weight) or vp (uniform t, eps loss).")
    TrainConfig.LossMode loss = D.loss();
    @Option(names = "--dae-sigma", description = "If > 0, train a DAE at this single noise level.")
    double daeSigma = D.daeSigma();
    @Option(names = "--steps", description = "Optimiser steps.")
    int steps = D.steps();
    @Option(names = "--batch", description = "Images per step.")
    int batch = D.batch();
    @Option(names = "--lr", description = "Adam learning rate.")
    double lr = D.lr();
    @Option(names = "--warmup", description = "Linear learning-rate warm-up steps.")
    int warmup = D.warmupSteps();
    @Option(names = "--ema", description = "EMA decay per step.")
    double ema = D.emaDecay();
    @Option(names = "--seed", description = "Seed for initialisation, split, batches and noise.")
    long seed = D.seed();
    @Option(names = "--train-frac", description = "Training fraction of the split (default: the archive's split, else 0.8).")
    Double trainFrac;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Model file to write (.safetensors).")
    Path out;
    @Option(names = "--checkpoint-every", description = "Steps between checkpoints (FILE.ckpt).")
    int checkpointEvery = D.checkpointEvery();
    @Option(names = "--resume", description = "Continue from FILE.ckpt if it exists.")
    boolean resume;
    @Option(names = "--eval-sigma", defaultValue = "0.5", description = "Noise level of the held-out denoising check at the end (0: skip).")
    double evalSigma;
    @Option(names = "--eval-count", defaultValue = "1000", description = "Held-out images in that check (0: all).")
    int evalCount;

    @Override
    public Integer call() throws Exception {
        OutputChecks.file(out, "--out");
        Path ckpt = out.resolveSibling(out.getFileName() + ".ckpt");
        OutputChecks.file(ckpt, "--out (its checkpoint)");
        Dataset ds = DataSpec.open(data);
        Split split = Split.choose(ds, trainFrac, seed);
        int[] s = ds.imageShape();
        long[] shape = {s[0], s[1], s[2]};
        Record cfg = switch (model) {
            case "unet" -> UNet.Config.builder().inputShape(shape).channels(channels).blocks(blocks)
                    .attention(attention).embedding(embedding).parametrisation(parametrisation).build();
            case "mlp" -> MlpDenoiser.Config.builder().inputShape(shape).depth(depth).width(width)
                    .activation(activation).embedding(embedding).embeddingDim(embeddingDim)
                    .parametrisation(parametrisation).build();
            default -> throw new InvalidInputException("--model must be unet or mlp, got '" + model + "'");
        };
        ModelSize.check(cfg, model.equals("unet")
                ? "--channels " + join(channels) + " --blocks " + blocks + " --attention " + join(attention)
                : "--depth " + depth + " --width " + width + " --embedding-dim " + embeddingDim);
        TrainConfig tc = TrainConfig.builder().steps(steps).batch(batch).lr(lr).warmupSteps(warmup).emaDecay(ema)
                .seed(seed).loss(loss).daeSigma(daeSigma).checkpointEvery(checkpointEvery).build();
        if (!(evalSigma >= 0) || Double.isInfinite(evalSigma) || evalCount < 0) {
            throw new InvalidInputException("--eval-sigma must be finite and >= 0 and --eval-count >= 0, got "
                    + evalSigma + " and " + evalCount);
        }
        NetworkDenoiser net = ModelFiles.build(cfg, seed);
        Trainer trainer = new Trainer(net, tc);

        DatasetImages train = new DatasetImages(ds, split.trainIndices());
        System.err.printf("training %s (%d parameters) on %d images of %s, %d steps of %d%n", model,
                net.parameterTensors().values().stream().mapToLong(t -> t.numel()).sum(), train.size(), data, steps, batch);
        Trainer.Result r;
        try (TrainingProgress progress = new TrainingProgress(0, steps, System.err)) {
            r = trainer.run(train, ckpt, resume, progress);
        }
        ModelFiles.save(net, out, trainer.provenance());
        System.out.printf("trained %d steps in %.1f s (%.1f img/s), recent loss %.4f -> %s%n", r.steps(), r.seconds(),
                r.imagesPerSecond(), r.recentLoss(), out);
        if (evalSigma > 0 && split.testIndices().length > 0) {
            int[] test = split.testIndices();
            if (evalCount > 0 && evalCount < test.length) {
                test = java.util.Arrays.copyOf(test, evalCount);
            }
            DenoisingEval.Result e = DenoisingEval.evaluate(net, train, new DatasetImages(ds, test),
                    evalSigma, seed + 1, 256);
            System.out.println("held-out denoising: " + e);
        }
        Files.deleteIfExists(ckpt);
        return 0;
    }

    private static String join(int[] values) {
        return java.util.Arrays.stream(values).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(","));
    }
}
