package org.diffrep.sae;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.StoreLayout;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The feature rows an SAE works on: one layer at one noise level of a feature store, memory-mapped
 * as a [N, C] tensor, with the store's train/test split.
 *
 * @param store      the open store
 * @param layer      the tap
 * @param sigmaIndex index into the store's sigmas
 * @param features   CPU float32 [N, C] over the mapped file (read-only)
 * @param source     the array's path, for messages
 */
public record SaeFeatures(FeatureStore store, String layer, int sigmaIndex, Tensor features, String source) {

    /**
     * Opens {@code layer} at the stored sigma equal to {@code sigma} (relative tolerance 1e-3), or at
     * {@code sigmaIndex} when {@code sigma} is null. Errors list what the store has.
     */
    public static SaeFeatures open(Path dir, String layer, Float sigma, Integer sigmaIndex) {
        FeatureStore store = FeatureStore.open(dir);
        if (!store.layers().contains(layer)) {
            throw InvalidInputException.field("layer", layer + ": " + dir + " has no such layer; it has " + store.layers());
        }
        float[] sigmas = store.sigmas();
        int index;
        if (sigma != null) {
            index = -1;
            for (int i = 0; i < sigmas.length; i++) {
                if (Math.abs(sigmas[i] - sigma) <= 1e-3 * Math.max(Math.abs(sigma), 1e-6f)) {
                    index = i;
                }
            }
            if (index < 0) {
                throw InvalidInputException.fields("{sigma} " + sigma + ": " + InvalidInputException.literal(dir)
                        + " has no such noise level; it has " + Arrays.toString(sigmas) + " (or give {sigmaIndex})",
                        "sigma", "sigmaIndex");
            }
        } else if (sigmaIndex != null) {
            if (sigmaIndex < 0 || sigmaIndex >= sigmas.length) {
                throw InvalidInputException.field("sigmaIndex", sigmaIndex + ": " + dir + " has sigma indices 0.."
                        + (sigmas.length - 1) + " (" + Arrays.toString(sigmas) + ")");
            }
            index = sigmaIndex;
        } else {
            throw InvalidInputException.fields("give {sigma} (one of " + Arrays.toString(sigmas) + ") or {sigmaIndex}",
                    "sigma", "sigmaIndex");
        }
        Tensor features = store.featuresTensor(layer, index);
        String source = dir.resolve(StoreLayout.features(layer, index)).toString();
        if (features.dim() != 2 || features.size(0) != store.count()) {
            throw new InvalidInputException(source + ": shape " + Arrays.toString(org.diffrep.ops.Tensors.shape(features))
                    + ", expected [" + store.count() + ", C]");
        }
        return new SaeFeatures(store, layer, index, features, source);
    }

    public float sigma() {
        return store.sigmas()[sigmaIndex];
    }

    /** Row ids of the train part (train = true) or the test part of the store's split. */
    public long[] ids(boolean train) {
        boolean[] mask = store.trainMask();
        return java.util.stream.IntStream.range(0, mask.length).filter(i -> mask[i] == train).asLongStream().toArray();
    }

    /** The dataset index of each row (indices.npy; 0..N-1 for stores written without it). */
    public long[] datasetIndices() {
        if (!store.files().contains(StoreLayout.INDICES)) {
            return allIds();
        }
        return store.map(StoreLayout.INDICES).toLongs();
    }

    /** All row ids 0..N-1. */
    public long[] allIds() {
        return java.util.stream.LongStream.range(0, store.count()).toArray();
    }
}
