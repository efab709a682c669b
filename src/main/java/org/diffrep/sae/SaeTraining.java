package org.diffrep.sae;

import org.diffrep.io.Json;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One SAE trained on the train rows of a store's layer at one sigma and scored on its train and test
 * rows, and the files {@code diffrep sae train} writes: the SAE (safetensors; configuration, store,
 * layer, sigma and FVUs in the metadata) and {@code OUT.metrics.json} beside it (configuration,
 * input scale, samples/s, FVU / L0 / dead fraction on train and test, the training curve).
 *
 * @param in     the feature rows it was trained on
 * @param result the trained SAE and its training curve
 * @param train  its evaluation on the train rows
 * @param test   its evaluation on the test rows; null when the store has none
 */
public record SaeTraining(SaeFeatures in, SaeTrainer.Result result, SaeEvaluation train, SaeEvaluation test) {

    /** Rows per evaluation batch. */
    private static final int EVAL_BATCH = 1024;

    /** Trains on the train rows of {@code in} as {@code config} says, logging every {@code logEvery} steps. */
    public static SaeTraining run(SaeFeatures in, SaeConfig config, PrintStream log, int logEvery) {
        long[] trainIds = in.ids(true), testIds = in.ids(false);
        SaeTrainer.Result r = new SaeTrainer(config, log, logEvery).train(in.features(), trainIds, in.source());
        SaeEvaluation onTrain = SaeEvaluation.of(r.sae(), in.features(), trainIds, EVAL_BATCH);
        SaeEvaluation onTest = testIds.length == 0 ? null : SaeEvaluation.of(r.sae(), in.features(), testIds, EVAL_BATCH);
        return new SaeTraining(in, r, onTrain, onTest);
    }

    /** Where the metrics of the SAE file {@code sae} go: {@code SAE.metrics.json} beside it. */
    public static Path metricsFile(Path sae) {
        return sae.resolveSibling(sae.getFileName() + ".metrics.json");
    }

    public TopKSae sae() {
        return result.sae();
    }

    /** Writes the SAE to {@code out} and its metrics to {@link #metricsFile}, each whole or not at all. */
    public void write(Path out) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("features", in.store().dir().toString());
        meta.put("layer", in.layer());
        meta.put("sigma", Float.toString(in.sigma()));
        meta.put("sigma_index", Integer.toString(in.sigmaIndex()));
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
        report.put("config", sae().config());
        report.put("input_scale", sae().inputScale());
        report.put("samples_per_second", result.samplesPerSecond());
        report.put("train", summary(train));
        report.put("test", test == null ? null : summary(test));
        report.put("history", result.history());
        return report;
    }

    private static Map<String, Object> summary(SaeEvaluation e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rows", e.rows());
        m.put("fvu", e.fvu());
        m.put("l0", e.l0());
        m.put("dead_fraction", e.deadFraction());
        return m;
    }
}
