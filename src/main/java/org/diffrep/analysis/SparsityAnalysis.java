package org.diffrep.analysis;

import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.diffrep.extract.FeatureStore;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code diffrep sparsity} over every sigma of one layer of a store: sparsity.json, active_counts.npy
 * (int64 [S, N]), active_channels.{png,svg}, overlap_vs_sigma.{png,svg} and overlap_sigma_I.png.
 */
public record SparsityAnalysis(String store, String layer, ActiveChannels rule, List<ChannelSparsity> perSigma) {

    /** Images per class in the overlap sample, by default ({@code diffrep sparsity}, plans). */
    public static final int DEFAULT_PER_CLASS = 200;

    /** Seed of the overlap sample, by default. */
    public static final long DEFAULT_SEED = 0;

    public static SparsityAnalysis run(FeatureStore store, String layer, ActiveChannels rule, int perClass, long seed) {
        long[] labels = store.labels();
        float[] sigmas = store.sigmas();
        List<ChannelSparsity> out = new ArrayList<>();
        for (int i = 0; i < sigmas.length; i++) {
            float[][] f = store.features(layer, i);
            out.add(ChannelSparsity.measure(sigmas[i], f, labels, rule, perClass, seed));
        }
        return new SparsityAnalysis(store.dir().toString(), layer, rule, out);
    }

    public void write(Path out) {
        OutputFiles.directory(out);
        int s = perSigma.size(), n = perSigma.get(0).activeCounts().length;
        long[] counts = new long[s * n];
        for (int i = 0; i < s; i++) {
            int[] c = perSigma.get(i).activeCounts();
            for (int j = 0; j < n; j++) {
                counts[i * n + j] = c[j];
            }
        }
        Npy.write(out.resolve("active_counts.npy"), counts, s, n);
        Json.write(out.resolve("sparsity.json"), summary());
        SparsityPlots.write(out, perSigma, "Active channels of " + layer + " (" + rule.describe() + ")");
        for (int i = 0; i < s; i++) {
            SparsityPlots.writeHeatmap(out.resolve("overlap_sigma_" + i + ".png"), perSigma.get(i));
        }
    }

    public Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("features", store);
        m.put("layer", layer);
        m.put("rule", rule.describe());
        m.put("threshold", rule.threshold());
        m.put("mass", rule.mass());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ChannelSparsity c : perSigma) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("sigma", c.sigma());
            r.put("mean_active", c.meanActive());
            r.put("std_active", c.stdActive());
            r.put("median_active", c.medianActive());
            r.put("within_class_overlap", c.withinOverlap());
            r.put("between_class_overlap", c.betweenOverlap());
            r.put("classes", c.classes());
            r.put("mean_active_by_class", c.meanActiveByClass());
            r.put("overlap", c.overlap());
            rows.add(r);
        }
        m.put("per_sigma", rows);
        return m;
    }
}
