package org.diffrep.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

/** {@code diffrep train}: trains a UNet or MLP denoiser on a data set's training split. */
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Train a diffusion denoiser (or a single-noise-level DAE) and save it as safetensors.")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "Data spec, e.g. builtin:mnist or idx:DIR.")
    String data;
    @Option(names = "--model", defaultValue = "unet", description = "unet or mlp.")
    String model;
    @Option(names = "--channels", split = ",", defaultValue = "32,64,64", description = "UNet channels per level.")
    int[] channels;
    @Option(names = "--blocks", defaultValue = "1", description = "UNet residual blocks per level.")
    int blocks;
    @Option(names = "--attention", split = ",", defaultValue = "8", description = "UNet resolutions with self-attention (padded size; one that no level has, e.g. 0, means none).")
    int[] attention;
    @Option(names = "--depth", defaultValue = "3", description = "MLP hidden layers.")
    int depth;
    @Option(names = "--width", defaultValue = "256", description = "MLP hidden width.")
    int width;
    @Option(names = "--activation", defaultValue = "silu", description = "MLP activation: relu or silu.")
    String activation;
    @Option(names = "--embedding", defaultValue = "sinusoidal", description = "Noise embedding: sinusoidal, fourier (or scalar for mlp).")
    String embedding;
    @Option(names = "--embedding-dim", defaultValue = "32", description = "MLP noise embedding width.")
    int embeddingDim;
    @Option(names = "--parametrisation", defaultValue = "edm", description = "edm or vp (DDPM eps-prediction wrapped in EDM form).")
    String parametrisation;
    @Option(names = "--loss", defaultValue = "edm", description = "edm (log-normal sigma, EDM weight) or vp (uniform t, eps loss).")
    String loss;
    @Option(names = "--dae-sigma", defaultValue = "0", description = "If > 0, train a DAE at this single noise level.")
    double daeSigma;
    @Option(names = "--steps", defaultValue = "2000", description = "Optimiser steps.")
    int steps;
    @Option(names = "--batch", defaultValue = "64", description = "Images per step.")
    int batch;
    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate.")
    double lr;
    @Option(names = "--warmup", defaultValue = "200", description = "Linear learning-rate warm-up steps.")
    int warmup;
    @Option(names = "--ema", defaultValue = "0.999", description = "EMA decay per step.")
    double ema;
    @Option(names = "--seed", defaultValue = "0", description = "Seed for initialisation, split, batches and noise.")
    long seed;
    @Option(names = "--train-frac", description = "Training fraction of the split (default: the archive's split, else 0.8).")
    Double trainFrac;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Model file to write (.safetensors).")
    Path out;
    @Option(names = "--checkpoint-every", defaultValue = "500", description = "Steps between checkpoints (FILE.ckpt).")
    int checkpointEvery;
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
        Parametrisation p = enumValue(Parametrisation.class, parametrisation, "--parametrisation");
        TrainConfig.LossMode lossMode = enumValue(TrainConfig.LossMode.class, loss, "--loss");
        Record cfg = switch (model) {
            case "unet" -> new UNet.Config(shape, channels, blocks, attention, embedding, p);
            case "mlp" -> new MlpDenoiser.Config(shape, depth, width, activation, embedding, embeddingDim, p);
            default -> throw new InvalidInputException("--model must be unet or mlp, got '" + model + "'");
        };
        ModelSize.check(cfg, model.equals("unet")
                ? "--channels " + join(channels) + " --blocks " + blocks + " --attention " + join(attention)
                : "--depth " + depth + " --width " + width + " --embedding-dim " + embeddingDim);
        TrainConfig tc = new TrainConfig(steps, batch, lr, warmup, ema, seed, lossMode, -1.2, 1.2, daeSigma,
                checkpointEvery);
        if (!(evalSigma >= 0) || Double.isInfinite(evalSigma) || evalCount < 0) {
            throw new InvalidInputException("--eval-sigma must be finite and >= 0 and --eval-count >= 0, got "
                    + evalSigma + " and " + evalCount);
        }
        NetworkDenoiser net = ModelFiles.build(cfg, seed);
        Trainer.checkMemory(net, tc);
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("data", data);
        provenance.put("trainCount", split.trainIndices().length);
        provenance.put("steps", steps);
        provenance.put("batch", batch);
        provenance.put("lr", lr);
        provenance.put("ema", ema);
        provenance.put("loss", lossMode.name());
        provenance.put("daeSigma", daeSigma);
        provenance.put("seed", seed);
        provenance.put("version", VersionProvider.version());

        DatasetImages train = new DatasetImages(ds, split.trainIndices());
        System.err.printf("training %s (%d parameters) on %d images of %s, %d steps of %d%n", model,
                net.parameterTensors().values().stream().mapToLong(t -> t.numel()).sum(), train.size(), data, steps, batch);
        Trainer.Result r;
        try (TrainingProgress progress = new TrainingProgress(0, steps, System.err)) {
            r = new Trainer(net, tc).provenance(provenance).run(train, ckpt, resume, progress);
        }
        ModelFiles.save(net, out, provenance);
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

    private static <E extends Enum<E>> E enumValue(Class<E> type, String value, String option) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value)) {
                return e;
            }
        }
        throw new InvalidInputException(option + " must be one of " + List.of(type.getEnumConstants()).toString()
                .toLowerCase() + ", got '" + value + "'");
    }
}
