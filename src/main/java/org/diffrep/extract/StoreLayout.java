package org.diffrep.extract;

import java.nio.file.Path;

/** File names inside a feature store (see docs/FEATURE_STORE.md). */
public final class StoreLayout {

    public static final String MANIFEST = "manifest.json";
    public static final String LABELS = "labels.npy";
    public static final String SPLIT = "split.npy";
    /** indices.npy: the dataset index of each row (int64 [N]). */
    public static final String INDICES = "indices.npy";
    static final String SHARDS = "shards";

    private StoreLayout() {
    }

    /** features/LAYER/sigma_I.npy: spatial means, or the flattened map with pooling none. */
    public static String features(String layer, int sigmaIndex) {
        return "features/" + layer + "/sigma_" + sigmaIndex + ".npy";
    }

    /** features/LAYER/sigma_I.max.npy: spatial maxima (pooling mean+max). */
    public static String featuresMax(String layer, int sigmaIndex) {
        return "features/" + layer + "/sigma_" + sigmaIndex + ".max.npy";
    }

    /** topk/LAYER/sigma_I.values.npy: the k largest spatial means, descending. */
    public static String topkValues(String layer, int sigmaIndex) {
        return "topk/" + layer + "/sigma_" + sigmaIndex + ".values.npy";
    }

    /** topk/LAYER/sigma_I.indices.npy: their channel indices (int64). */
    public static String topkIndices(String layer, int sigmaIndex) {
        return "topk/" + layer + "/sigma_" + sigmaIndex + ".indices.npy";
    }

    static Path shardDir(Path store, int shard) {
        return store.resolve(SHARDS).resolve(String.format("shard_%05d", shard));
    }

    static Path shardPartialDir(Path store, int shard) {
        return store.resolve(SHARDS).resolve(String.format("shard_%05d.partial", shard));
    }
}
