package org.diffrep.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.diffrep.analysis.KMeansConfig;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.io.Hashes;
import org.diffrep.io.Json;
import org.diffrep.sae.SaeConfig;
import org.diffrep.study.ProbeStudy;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The cache keys of a plan's stages: the SHA-256 of the JSON of everything a stage's output depends
 * on. A store's key covers the model file's content hash, the data spec and every extraction setting
 * (not the output directory or thread count); a probe result's key covers its store's key and every
 * probe setting; a trained model's key covers the recipe. Each settings record is written whole, so a
 * setting added later, or a changed default, changes the key.
 */
final class StageKeys {

    /** Bumped when a stage's output format or meaning changes, so old caches are not reused. */
    static final String FORMAT = "diffrep-plan-1";

    private StageKeys() {
    }

    static String train(Plan.TrainRecipe r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", "train");
        m.put("recipe", r);
        return hash(m);
    }

    /** {@code modelId}: {@code sha256:HEX} of the model file. */
    static String store(Plan.Cell c, String modelId) {
        ObjectNode cfg = Json.COMPACT.valueToTree(c.extract());
        for (String f : new String[]{"model", "out", "resume", "threads", "partition"}) {
            cfg.remove(f);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", "extract");
        m.put("model", modelId);
        m.put("extract", cfg);
        return hash(m);
    }

    static String probe(String storeKey, ProbeStudy.Settings s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", "probe");
        m.put("store", storeKey);
        m.put("probe", s);
        return hash(m);
    }

    static String cluster(String storeKey, String layer, int sigmaIndex, KMeansConfig cfg) {
        return analysis("cluster", storeKey, layer, sigmaIndex, "kmeans", cfg);
    }

    static String sparsity(String storeKey, String layer, int sigmaIndex, Plan.Sparsity s) {
        return analysis("sparsity", storeKey, layer, sigmaIndex, "sparsity", s);
    }

    /** {@code cfg}: with the store's input width. */
    static String sae(String storeKey, String layer, int sigmaIndex, SaeConfig cfg) {
        return analysis("sae", storeKey, layer, sigmaIndex, "sae", cfg);
    }

    /** An analysis of one tap at one sigma of a store: the stage, where it reads, and its settings under {@code key}. */
    private static String analysis(String stage, String storeKey, String layer, int sigmaIndex, String key,
                                   Object settings) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", stage);
        m.put("store", storeKey);
        m.put("layer", layer);
        m.put("sigmaIndex", sigmaIndex);
        m.put(key, settings);
        return hash(m);
    }

    /** The pixel baseline of a cell's dataset: its selection of images and split, and the probe settings (clean labels). */
    static String baseline(Plan.Cell c) {
        ExtractConfig e = c.extract();
        Map<String, Object> sel = new LinkedHashMap<>();
        sel.put("data", e.data());
        sel.put("limit", e.limit());
        sel.put("seed", e.seed());
        sel.put("split", e.split());
        sel.put("trainFrac", e.trainFrac());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", "pixel-baseline");
        m.put("selection", sel);
        m.put("probe", c.probe().toBuilder().labelNoise(0).build());
        return hash(m);
    }

    /** The first 16 hex digits: directory and file names. */
    static String shortKey(String key) {
        return key.substring(0, 16);
    }

    private static String hash(Map<String, Object> m) {
        m.put("format", FORMAT);
        try {
            return Hashes.hex(Hashes.sha256(Json.COMPACT.writeValueAsString(m).getBytes(StandardCharsets.UTF_8)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("settings must serialise to JSON", e);
        }
    }
}
