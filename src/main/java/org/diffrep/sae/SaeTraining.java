package org.diffrep.sae;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.io.Json;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One SAE trained on an {@link SaeInput} and scored on a sample of its training rows and on its held-out rows,
 * next to PCA with as many components as the SAE has active latents (fitted on the same training sample, scored
 * on the same held-out rows); and the files {@code diffrep sae train} writes: the SAE (safetensors; configuration,
 * source, FVUs in the metadata) and {@code OUT.metrics.json} beside it (configuration, input scale, samples/s,
 * FVU / L0 / dead latents on train and test, PCA's FVU, the training curve).
 *
 * <p>Dead latents have two names: {@code dead_in_training_window} (no activation in the last {@code deadAfter}
 * training rows at the end of training, the count AuxK works on) and {@code never_active} on a set of rows
 * (no activation on any of them).
 *
 * @param input  the rows it was trained on
 * @param result the trained SAE and its training curve
 * @param train  its evaluation on the training sample ({@value #EVAL_SAMPLE} rows at most; all rows of smaller sets)
 * @param test   its evaluation on the held-out rows; null when there are none
 * @param pca    PCA-k on the same rows (k = the SAE's k); null when the rows are too wide for it
 */
public record SaeTraining(SaeInput input, SaeTrainer.Result result, SaeEvaluation train, SaeEvaluation test,
                          Pca pca) {

    /** Rows per evaluation batch. */
    private static final int EVAL_BATCH = 1024;
    /** Training rows evaluated and fitted by PCA, at most (the sample is also capped at 128 MiB of floats). */
    static final int EVAL_SAMPLE = 65_536;
    /** Widest rows PCA is computed for (its D x D eigendecomposition). */
    static final int PCA_MAX_WIDTH = 2048;

    /**
     * PCA with {@code k} components: FVU on the training sample and on the held-out rows (NaN when none), and the
     * share of the training sample's variance its k components hold.
     */
    public record Pca(int k, double trainFvu, double testFvu, double explained) {
    }

    /** Trains on the training rows of {@code in} as {@code config} says, logging every {@code logEvery} steps. */
    public static SaeTraining run(SaeFeatures in, SaeConfig config, PrintStream log, int logEvery) {
        return sweep(SaeInput.pooled(in), config, new int[]{config.k()}, log, logEvery).get(0);
    }

    /**
     * One SAE per k of {@code ks} (the rest of {@code config} shared), each scored with PCA-k on the same rows; the
     * training sample and PCA are computed once.
     */
    public static List<SaeTraining> sweep(SaeInput input, SaeConfig config, int[] ks, PrintStream log, int logEvery) {
        return sweep(input, config, ks, log, logEvery, null);
    }

    /** {@link #sweep}, handing each SAE to {@code done} as soon as it is trained and scored (to write it). */
    public static List<SaeTraining> sweep(SaeInput input, SaeConfig config, int[] ks, PrintStream log, int logEvery,
                                          Done done) throws java.io.UncheckedIOException {
        int width = input.train().width();
        int sampleRows = (int) Math.max(2, Math.min(EVAL_SAMPLE, (32L << 20) / Math.max(1, width)));
        Tensor sample = input.train().sample(sampleRows, new Random(config.seed() + 1));
        sample.retainReference();
        SaeRows trainSample = StoreRows.all(sample, input.train().source() + " (evaluation sample)");
        PcaBaseline pca = width <= PCA_MAX_WIDTH && sample.size(0) > 1 ? PcaBaseline.fit(sample) : null;
        double[] pcaTrain = pca == null ? null : pca.fvu(trainSample, ks, EVAL_BATCH);
        double[] pcaTest = pca == null || input.test() == null ? null : pca.fvu(input.test(), ks, EVAL_BATCH);
        List<SaeTraining> out = new ArrayList<>();
        for (int i = 0; i < ks.length; i++) {
            SaeConfig c = config.toBuilder().k(ks[i]).build();
            if (log != null && ks.length > 1) {
                log.printf("sae train: k %d (%d of %d)%n", ks[i], i + 1, ks.length);
            }
            SaeTrainer.Result r = new SaeTrainer(c, log, logEvery).train(input.train());
            SaeEvaluation onTrain = SaeEvaluation.of(r.sae(), trainSample, EVAL_BATCH);
            SaeEvaluation onTest = input.test() == null ? null : SaeEvaluation.of(r.sae(), input.test(), EVAL_BATCH);
            Pca p = pca == null ? null : new Pca(ks[i], pcaTrain[i], pcaTest == null ? Double.NaN : pcaTest[i],
                    pca.explained(ks[i]));
            SaeTraining t = new SaeTraining(input, r, onTrain, onTest, p);
            if (done != null) {
                try {
                    done.accept(i, t);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            out.add(t);
        }
        return out;
    }

    /** Receives the SAE of the i-th k. */
    public interface Done {
        void accept(int i, SaeTraining t) throws IOException;
    }

    /** Where the metrics of the SAE file {@code sae} go: {@code SAE.metrics.json} beside it. */
    public static Path metricsFile(Path sae) {
        return sae.resolveSibling(sae.getFileName() + ".metrics.json");
    }

    /** Where the SAE of a sweep with k = {@code k} goes: {@code NAME.kK.safetensors} beside {@code out}. */
    public static Path sweepFile(Path out, int k) {
        String name = out.getFileName().toString();
        String stem = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
        return out.resolveSibling(stem + ".k" + k + ".safetensors");
    }

    /** Where a sweep's summary goes: {@code NAME.sweep.json} beside {@code out}. */
    public static Path sweepSummary(Path out) {
        String name = out.getFileName().toString();
        String stem = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
        return out.resolveSibling(stem + ".sweep.json");
    }

    public TopKSae sae() {
        return result.sae();
    }

    /** Writes the SAE to {@code out} and its metrics to {@link #metricsFile}, each whole or not at all. */
    public void write(Path out) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(input.provenance());
        meta.put("train_fvu", Double.toString(train.fvu()));
        if (test != null) {
            meta.put("test_fvu", Double.toString(test.fvu()));
        }
        sae().save(out, meta);
        Json.write(metricsFile(out), metrics(out));
    }

    /** The content of the metrics file of the SAE written to {@code out}. */
    public Map<String, Object> metrics(Path out) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("sae", out.toString());
        report.put("source", input.provenance());
        report.put("config", sae().config());
        report.put("input_scale", sae().inputScale());
        report.put("samples_per_second", result.samplesPerSecond());
        report.put("train_rows", input.train().count());
        report.put("dead_in_training_window", result.deadInWindow());
        report.put("train", summary(train));
        report.put("test", test == null ? null : summary(test));
        if (pca != null) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("k", pca.k());
            p.put("train_fvu", pca.trainFvu());
            p.put("test_fvu", Double.isNaN(pca.testFvu()) ? null : pca.testFvu());
            p.put("explained", pca.explained());
            report.put("pca", p);
        } else {
            report.put("pca", null);
        }
        report.put("history", result.history());
        return report;
    }

    private static Map<String, Object> summary(SaeEvaluation e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rows", e.rows());
        m.put("fvu", e.fvu());
        m.put("l0", e.l0());
        m.put("dead_fraction", e.deadFraction());
        m.put("never_active", e.deadFraction());
        return m;
    }
}
