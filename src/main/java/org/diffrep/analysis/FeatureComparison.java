package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.extract.FeatureStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code diffrep compare}: sliced Wasserstein distance between the features of two stores at every
 * sigma they share (matched by value within 0.1%), for one layer.
 *
 * @param a, b      the two store directories
 * @param layer     the layer compared
 * @param rows      one row per shared sigma
 */
public record FeatureComparison(String a, String b, String layer, int projections, long seed, List<Row> rows) {

    /** One shared noise level: its indices in each store, the sizes, and the distance. */
    public record Row(float sigma, int indexA, int indexB, int countA, int countB, double swd) {
    }

    public static FeatureComparison run(FeatureStore a, FeatureStore b, String layer, int projections, long seed) {
        float[] sa = a.sigmas(), sb = b.sigmas();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < sa.length; i++) {
            for (int j = 0; j < sb.length; j++) {
                if (Math.abs(sa[i] - sb[j]) <= 1e-3 * Math.max(Math.abs(sa[i]), 1e-6)) {
                    double d;
                    try (PointerScope scope = new PointerScope()) {
                        d = SlicedWasserstein.distance(a.featuresTensor(layer, i), b.featuresTensor(layer, j),
                                projections, seed);
                    }
                    rows.add(new Row(sa[i], i, j, a.count(), b.count(), d));
                    break;
                }
            }
        }
        if (rows.isEmpty()) {
            throw new InvalidInputException("the stores share no sigma: " + a.dir() + " has " + Arrays.toString(sa)
                    + ", " + b.dir() + " has " + Arrays.toString(sb));
        }
        return new FeatureComparison(a.dir().toString(), b.dir().toString(), layer, projections, seed, rows);
    }

    public Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("features_a", a);
        m.put("features_b", b);
        m.put("layer", layer);
        m.put("projections", projections);
        m.put("seed", seed);
        m.put("rows", rows);
        return m;
    }
}
