package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.io.Json;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;
import org.diffrep.report.Montage;
import org.diffrep.analysis.OutputFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@code diffrep reconstruct}: samples steered toward one dataset image's representation, the
 * representation distance of each sample to the target, and the same distance for random dataset
 * images as a baseline; reconstruct.png (target, then samples) and reconstruct.json.
 *
 * @param index          dataset index of the target
 * @param samples        the sampler's output
 * @param sampleDistance representation distance of each sample to the target (at repSigma)
 * @param baselineIndex  the random dataset images of the baseline
 * @param baselineDistance their distances to the target
 */
public record Reconstruction(int index, long label, float repSigma, GuidanceSettings guidance, SamplerConfig config,
                             StochasticSampler.Samples samples, double[] sampleDistance,
                             long[] baselineIndex, double[] baselineDistance) {

    /**
     * Reconstructs dataset image {@code index} as {@code cfg} says: checks the memory the sampling needs,
     * estimates the guidance's metric, then {@link #run(Denoiser, Dataset, int, ReconstructConfig, RepresentationMetric)}.
     */
    public static Reconstruction run(Denoiser model, Dataset data, int index, ReconstructConfig cfg) {
        requireIndex(data, index);
        cfg.checkMemory(model);
        return run(model, data, index, cfg, cfg.guidance().estimateMetric(model, data, cfg.sampler()));
    }

    /**
     * Runs the sampler for one target, steered as {@code cfg.guidance()} says, pulling in {@code metric}
     * (its {@link GuidanceSettings#estimateMetric}, shared by the targets of a study; null: Euclidean).
     */
    public static Reconstruction run(Denoiser model, Dataset data, int index, ReconstructConfig cfg,
                                     RepresentationMetric metric) {
        GuidanceSettings guide = cfg.guidance();
        SamplerConfig sampler = cfg.sampler();
        int count = cfg.samples();
        int baseline = cfg.baseline();
        float repSigma = cfg.reportSigma();
        String tap = guide.tap();
        requireIndex(data, index);
        if (count < 1) {
            throw InvalidInputException.field("samples", "must be >= 1, got " + count);
        }
        if (baseline < 0) {
            throw InvalidInputException.field("baseline", "must be >= 0, got " + baseline);
        }
        Representation.checkTap(model, tap);
        long[] inShape = model.inputShape();
        int[] dataShape = data.imageShape();
        if (inShape.length != 3 || inShape[0] != dataShape[0] || inShape[1] != dataShape[1] || inShape[2] != dataShape[2]) {
            throw new InvalidInputException("the model takes " + Arrays.toString(inShape) + ", the data has "
                    + Arrays.toString(dataShape));
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor target = data.batch(new long[]{index}).images();
            RepresentationGuidance g = guide.toward(model, target, sampler.seed() ^ 0x7a46L, metric);
            StochasticSampler.Samples s = new StochasticSampler(model, sampler).sample(count, guide.strength() == 0 ? null : g);
            long[] shape = {count, dataShape[0], dataShape[1], dataShape[2]};
            double[] sd = g.distances(Tensors.fromFloats(s.flat(), shape), repSigma);
            Random rng = new Random(sampler.seed() ^ 0x5eedL);
            long[] bi = new long[Math.min(baseline, data.size() - 1)];
            for (int i = 0; i < bi.length; i++) {
                long j;
                do {
                    j = rng.nextInt(data.size());
                } while (j == index);
                bi[i] = j;
            }
            double[] bd = bi.length == 0 ? new double[0] : g.distances(data.batch(bi).images(), repSigma);
            requireFinite(model, sd, "samples");
            requireFinite(model, bd, "baseline images");
            return new Reconstruction(index, data.label(index), repSigma, guide, sampler, s, sd, bi, bd);
        }
    }

    private static void requireIndex(Dataset data, int index) {
        if (index < 0 || index >= data.size()) {
            throw InvalidInputException.field("index", index + ": out of range [0, " + data.size() + ") of "
                    + data.source());
        }
    }

    private static void requireFinite(Denoiser model, double[] distances, String of) {
        for (int i = 0; i < distances.length; i++) {
            if (!Double.isFinite(distances[i])) {
                throw new InvalidInputException(model.source() + ": the representation distance of the " + of
                        + " (number " + i + ") to the target is " + distances[i]
                        + "; the model's representation is not finite, so nothing was written");
            }
        }
    }

    /** Writes reconstruct.png (the target, then the samples) and reconstruct.json. */
    public void write(Path out, Dataset data) {
        OutputFiles.directory(out);
        List<float[]> row = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            row.add(Tensors.toFloats(data.batch(new long[]{index}).images()));
        }
        row.addAll(Arrays.asList(samples.images()));
        Montage.write(out.resolve("reconstruct.png"), List.of(row), data.imageShape(), 3);
        Json.write(out.resolve("reconstruct.json"), summary());
    }

    public Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", index);
        m.put("label", label);
        m.put("rep_sigma", repSigma);
        m.put("guidance", guidance.summary());
        m.put("sampler", config);
        m.put("steps", samples.steps());
        m.put("final_sigma", samples.finalSigma());
        m.put("sample_distances", sampleDistance);
        m.put("mean_sample_distance", Arrays.stream(sampleDistance).average().orElse(Double.NaN));
        m.put("baseline_indices", baselineIndex);
        m.put("baseline_distances", baselineDistance);
        m.put("mean_baseline_distance", Arrays.stream(baselineDistance).average().orElse(Double.NaN));
        return m;
    }
}
