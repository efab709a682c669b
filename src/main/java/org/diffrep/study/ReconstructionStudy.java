package org.diffrep.study;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.analysis.NearestNeighbours;
import org.diffrep.analysis.OutputFiles;
import org.diffrep.data.Dataset;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.MemoryBudget;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import org.diffrep.probe.ProbeResult;
import org.diffrep.reconstruct.GuidanceSettings;
import org.diffrep.reconstruct.ReconstructConfig;
import org.diffrep.reconstruct.Reconstruction;
import org.diffrep.reconstruct.RepresentationClassifier;
import org.diffrep.reconstruct.RepresentationMetric;
import org.diffrep.reconstruct.SamplerConfig;
import org.diffrep.report.Montage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Reconstructions of many random targets, each sample labelled by a k-NN classifier (k = 3, Euclidean
 * on pixels) fitted on other real images of the dataset: the share of samples of the target's class
 * against chance (the sum over classes of the squared class shares). The same images also classify
 * each sample by its representation ({@link RepresentationClassifier}): whether the guidance met the
 * target's class in representation space even where the pixels show another digit. Writes
 * study.json, study.png (the first 20 targets, one row each: target, then its samples) and, for
 * NumPy, samples.npy, targets.npy and predicted.npy.
 */
public record ReconstructionStudy(List<Reconstruction> runs, long[][] predicted, double matchRate,
                                  long[][] representationPredicted, double representationMatchRate,
                                  double representationAccuracyOnTargets, double chanceRate, int classifierImages) {

    /**
     * Reconstructs {@code targets} random dataset images (seeded by the sampler's seed) as {@code config}
     * says, each target's sampler seeded by the seed + 1 + its number, and classifies every sample.
     */
    public static ReconstructionStudy run(Denoiser model, Dataset data, int targets, ReconstructConfig config) {
        int samples = config.samples();
        int knnImages = config.knnImages();
        GuidanceSettings guide = config.guidance();
        SamplerConfig cfg = config.sampler();
        if (targets < 1 || knnImages < 3 || (long) targets + knnImages > data.size()) {
            throw InvalidInputException.fields("{targets} " + targets + " plus {knnImages} " + knnImages
                    + " must be within the " + data.size() + " images of " + InvalidInputException.literal(data.source()),
                    "targets", "knnImages");
        }
        config.checkMemory(model);
        RepresentationMetric metric = guide.estimateMetric(model, data, cfg);
        float repSigma = config.reportSigma();
        double kept = (double) targets * samples * data.sampleSize();
        MemoryBudget.requireArray("{targets} " + targets + " {samples} " + samples, kept, "keeping every sample",
                "targets", "samples");
        MemoryBudget.requireHeap("{targets} " + targets + " {samples} " + samples, 3 * 4 * kept,
                "keeping every sample for samples.npy", "targets", "samples");
        int[] perm = shuffled(data.size(), cfg.seed());
        int[] targetIdx = Arrays.copyOf(perm, targets);
        long[] knnIdx = Arrays.stream(Arrays.copyOfRange(perm, targets, targets + knnImages)).asLongStream().toArray();
        int n = data.sampleSize();
        List<Reconstruction> runs = new ArrayList<>();
        long[][] predicted = new long[targets][];
        long[][] repPredicted = new long[targets][];
        int match = 0, repMatch = 0, total = 0, targetsByRep = 0;
        try (PointerScope scope = new PointerScope()) {
            Tensor train = data.batch(knnIdx).images().reshape(knnIdx.length, n).contiguous();
            long[] trainLabels = Arrays.stream(knnIdx).map(i -> data.label((int) i)).toArray();
            RepresentationClassifier byRep = new RepresentationClassifier(model, guide.tap(), repSigma,
                    data.batch(knnIdx).images(), trainLabels);
            // Targets run side by side, one LibTorch thread each: a batch of a few samples is too small
            // for intra-op threads (2 threads took 1.75x as long as 1 for 2 samples), and one thread
            // per target gives the same numbers whatever --threads is.
            int workers = Math.max(1, Math.min(Threads.torchThreads(), targets));
            ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
                Thread th = new Thread(() -> {
                    torch.set_num_threads(1);
                    r.run();
                }, "reconstruct-worker");
                th.setDaemon(true);
                return th;
            });
            try {
                List<Future<TargetResult>> futures = new ArrayList<>();
                for (int t = 0; t < targets; t++) {
                    final int tt = t;
                    futures.add(pool.submit(() -> {
                        ReconstructConfig seeded = config.toBuilder()
                                .sampler(cfg.toBuilder().seed(cfg.seed() + 1 + tt).build()).build();
                        TargetResult res = runTarget(model, data, targetIdx[tt], seeded, metric, train, trainLabels,
                                byRep);
                        System.out.printf("target %d/%d (index %d, label %d): sample classes %s (by representation %s)%n",
                                tt + 1, targets, targetIdx[tt], res.run().label(), Arrays.toString(res.pixels()),
                                Arrays.toString(res.representation()));
                        return res;
                    }));
                }
                for (int t = 0; t < targets; t++) {
                    TargetResult res = await(futures.get(t));
                    Reconstruction r = res.run();
                    runs.add(r);
                    predicted[t] = res.pixels();
                    repPredicted[t] = res.representation();
                    targetsByRep += res.targetByRepresentation() == r.label() ? 1 : 0;
                    for (int b = 0; b < samples; b++) {
                        match += predicted[t][b] == r.label() ? 1 : 0;
                        repMatch += repPredicted[t][b] == r.label() ? 1 : 0;
                        total++;
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        double chance = 0;
        int[] counts = data.classCounts();
        for (int c : counts) {
            double p = (double) c / data.size();
            chance += p * p;
        }
        return new ReconstructionStudy(runs, predicted, (double) match / total, repPredicted,
                (double) repMatch / total, (double) targetsByRep / targets, chance, knnImages);
    }

    public void write(Path out, Dataset data) {
        OutputFiles.directory(out);
        List<List<float[]>> rows = new ArrayList<>();
        for (Reconstruction r : runs.subList(0, Math.min(20, runs.size()))) {
            List<float[]> row = new ArrayList<>();
            try (PointerScope scope = new PointerScope()) {
                row.add(Tensors.toFloats(data.batch(new long[]{r.index()}).images()));
            }
            row.addAll(Arrays.asList(r.samples().images()));
            rows.add(row);
        }
        Montage.write(out.resolve("study.png"), rows, data.imageShape(), 2);
        writeArrays(out, data.imageShape());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", runs.get(0).guidance().method());
        m.put("targets", runs.size());
        m.put("match_rate", matchRate);
        m.put("match_rate_interval95", ProbeResult.wilson95(matchRate, sampleCount()));
        m.put("chance_rate", chanceRate);
        m.put("classifier", "3-NN on pixels of " + classifierImages + " other dataset images");
        m.put("representation_match_rate", representationMatchRate);
        m.put("representation_match_rate_interval95", ProbeResult.wilson95(representationMatchRate, sampleCount()));
        m.put("intervals", "95% Wilson intervals over all samples, as if independent; a target's samples are not, "
                + "so they are somewhat too narrow (reconstruct with several --model gives paired intervals over targets)");
        m.put("representation_accuracy_on_targets", representationAccuracyOnTargets);
        m.put("representation_classifier", "3-NN on the representations (at rep_sigma, whitened by their own covariance,"
                + " ridge " + RepresentationMetric.SHRINK + ") of the same images");
        m.put("mean_sample_distance", runs.stream().mapToDouble(r -> Arrays.stream(r.sampleDistance()).average().orElse(0)).average().orElse(0));
        m.put("mean_baseline_distance", runs.stream().mapToDouble(r -> Arrays.stream(r.baselineDistance()).average().orElse(0)).average().orElse(0));
        List<Map<String, Object>> per = new ArrayList<>();
        for (int t = 0; t < runs.size(); t++) {
            Map<String, Object> e = new LinkedHashMap<>(runs.get(t).summary());
            e.put("predicted_classes", predicted[t]);
            e.put("representation_classes", representationPredicted[t]);
            per.add(e);
        }
        m.put("runs", per);
        Json.write(out.resolve("study.json"), m);
    }

    /** Samples scored: targets x samples per target. */
    public long sampleCount() {
        return runs.isEmpty() ? 0 : (long) runs.size() * runs.get(0).samples().images().length;
    }

    /** The per-target classes, what a comparison of models on the same targets needs. */
    public ReconstructionComparison.Outcome outcome() {
        int[] idx = runs.stream().mapToInt(Reconstruction::index).toArray();
        long[] labels = runs.stream().mapToLong(Reconstruction::label).toArray();
        return new ReconstructionComparison.Outcome(idx, labels, predicted, representationPredicted);
    }

    /** One target's reconstruction and the classes of its samples (and of the target) by both classifiers. */
    private record TargetResult(Reconstruction run, long[] pixels, long[] representation, long targetByRepresentation) {
    }

    private static TargetResult runTarget(Denoiser model, Dataset data, int index, ReconstructConfig config,
                                          RepresentationMetric metric, Tensor train, long[] trainLabels,
                                          RepresentationClassifier byRep) {
        int samples = config.samples();
        Reconstruction r = Reconstruction.run(model, data, index, config, metric);
        int n = data.sampleSize();
        float[] flat = r.samples().flat();
        try (PointerScope scope = new PointerScope()) {
            long[] pixels = NearestNeighbours.classify(train, trainLabels, Tensors.fromFloats(flat, samples, n), 3);
            long[] shape = {samples, data.imageShape()[0], data.imageShape()[1], data.imageShape()[2]};
            long[] byRepresentation = byRep.classify(Tensors.fromFloats(flat, shape));
            // the classifier's own accuracy on real digits, for reference
            long target = byRep.classify(data.batch(new long[]{index}).images())[0];
            return new TargetResult(r, pixels, byRepresentation, target);
        }
    }

    private static <T> T await(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** samples.npy float32 [T, S, C, H, W], targets.npy int64 [T] (dataset indices), predicted.npy int64 [T, S]. */
    private void writeArrays(Path out, int[] imageShape) {
        int t = runs.size(), s = runs.get(0).samples().images().length;
        int n = imageShape[0] * imageShape[1] * imageShape[2];
        float[] flat = new float[t * s * n];
        long[] idx = new long[t];
        long[] pred = new long[t * s];
        for (int i = 0; i < t; i++) {
            Reconstruction r = runs.get(i);
            idx[i] = r.index();
            System.arraycopy(r.samples().flat(), 0, flat, i * s * n, s * n);
            System.arraycopy(predicted[i], 0, pred, i * s, s);
        }
        Npy.write(out.resolve("samples.npy"), flat, t, s, imageShape[0], imageShape[1], imageShape[2]);
        Npy.write(out.resolve("targets.npy"), idx, t);
        Npy.write(out.resolve("predicted.npy"), pred, t, s);
    }

    private static int[] shuffled(int n, long seed) {
        int[] p = new int[n];
        Arrays.setAll(p, i -> i);
        Random r = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
