package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.analysis.OutputFiles;
import org.diffrep.io.Npy;
import org.diffrep.model.Denoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.reconstruct.SamplerConfig;
import org.diffrep.reconstruct.StochasticSampler;
import org.diffrep.report.Montage;
import org.diffrep.report.OutputChecks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code diffrep sample}: unconditional samples from a denoiser with the stochastic denoising sampler. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Unconditional samples with the stochastic denoising sampler of Kadkhodaie and Simoncelli; "
                + "samples.png and samples.npy (float32 [N, C, H, W] in the data range).")
public final class SampleCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "Model file (safetensors or TorchScript), or builtin:unet-mnist (a small UNet trained on builtin:mnist, in the jar).")
    Path model;

    @Option(names = "--samples", defaultValue = "16", description = "Number of samples (default: ${DEFAULT-VALUE}).")
    int samples;

    @Mixin
    SamplerOptions sampler;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public Integer call() {
        if (samples < 1) {
            throw new InvalidInputException("--samples must be >= 1, got " + samples);
        }
        SamplerConfig cfg = sampler.config();
        OutputChecks.directory(out, "--out");
        Denoiser d = ModelFiles.load(model);
        long[] shape = d.inputShape();
        if (shape.length != 3) {
            throw new InvalidInputException(model + ": sampling needs an image model [C, H, W], got " + Arrays.toString(shape));
        }
        StochasticSampler.checkMemory(d, samples, 1, "--samples " + samples);
        long t0 = System.nanoTime();
        StochasticSampler.Samples s = new StochasticSampler(d, cfg).sample(samples);
        OutputFiles.directory(out);
        List<List<float[]>> rows = new ArrayList<>();
        int perRow = (int) Math.ceil(Math.sqrt(samples));
        for (int b = 0; b < samples; b++) {
            if (b % perRow == 0) {
                rows.add(new ArrayList<>());
            }
            rows.get(rows.size() - 1).add(s.images()[b]);
        }
        Npy.write(out.resolve("samples.npy"), s.flat(), samples, shape[0], shape[1], shape[2]);
        Montage.write(out.resolve("samples.png"), rows, new int[]{(int) shape[0], (int) shape[1], (int) shape[2]}, 2);
        System.out.printf("%d samples in %.1f s; steps %s%nwrote %s%n", samples, (System.nanoTime() - t0) / 1e9,
                Arrays.toString(s.steps()), out.resolve("samples.png"));
        return 0;
    }
}
