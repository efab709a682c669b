package org.diffrep.extract;

import java.util.List;
import java.util.Map;

/**
 * manifest.json of a feature store. Holds no timestamps, so two runs with the same settings
 * write the same bytes.
 *
 * @param format   "diffrep-feature-store/1"
 * @param settings what was extracted, and how
 * @param layers   per tap: the feature map shape [C, H, W] and the stored row length
 * @param files    every array file of the store, relative to its directory, sorted
 * @param versions diffrep and LibTorch versions that wrote it
 * @param complete true only once every file is in place
 */
public record StoreManifest(String format, StoreSettings settings, Map<String, LayerShape> layers,
                            List<String> files, Map<String, String> versions, boolean complete) {

    public static final String FORMAT = "diffrep-feature-store/1";

    /** A tap's feature map shape (without the batch) and the length of one stored feature row. */
    public record LayerShape(List<Long> mapShape, long rowLength) {
    }
}
