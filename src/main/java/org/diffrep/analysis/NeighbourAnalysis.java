package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.extract.FeatureStore;
import org.diffrep.io.Json;
import org.diffrep.ops.Tensors;
import org.diffrep.report.Montage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code diffrep neighbours}: the nearest stored rows of some query rows of a store, as neighbours.json
 * and a montage (one row per query: the query, then its neighbours, nearest first).
 *
 * @param queries store rows asked for
 * @param result  neighbours of each (the query itself excluded)
 */
public record NeighbourAnalysis(String store, String layer, float sigma, int[] queries,
                                NearestNeighbours.Result result, long[] labels) {

    public static NeighbourAnalysis run(FeatureStore store, String layer, int sigmaIndex, int[] queries, int k) {
        int n = store.count();
        for (int q : queries) {
            if (q < 0 || q >= n) {
                throw InvalidInputException.field("queries", q + ": out of range [0, " + n + ") of " + store.dir());
            }
        }
        if (queries.length == 0) {
            throw InvalidInputException.field("queries", ": give at least one row index");
        }
        NearestNeighbours.Result r;
        try (PointerScope scope = new PointerScope()) {
            Tensor x = store.featuresTensor(layer, sigmaIndex);
            long[] ql = java.util.Arrays.stream(queries).asLongStream().toArray();
            Tensor qx = x.index_select(0, Tensors.fromLongs(ql));
            r = NearestNeighbours.search(x, qx, k, queries);
        }
        return new NeighbourAnalysis(store.dir().toString(), layer, store.sigmas()[sigmaIndex], queries, r, store.labels());
    }

    public Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("features", store);
        m.put("layer", layer);
        m.put("sigma", sigma);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < queries.length; i++) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("query", queries[i]);
            r.put("label", labels[queries[i]]);
            r.put("neighbours", result.indices()[i]);
            long[] nl = java.util.Arrays.stream(result.indices()[i]).mapToLong(j -> labels[j]).toArray();
            r.put("neighbour_labels", nl);
            double[] d = new double[result.distances()[i].length];
            for (int j = 0; j < d.length; j++) {
                d[j] = Math.sqrt(result.distances()[i][j]);
            }
            r.put("distances", d);
            rows.add(r);
        }
        m.put("queries", rows);
        return m;
    }

    /** Writes neighbours.json and, with a dataset, neighbours.png. */
    public void write(Path out, Dataset data, long[] datasetIndex) {
        OutputFiles.directory(out);
        Json.write(out.resolve("neighbours.json"), summary());
        if (data == null) {
            return;
        }
        List<List<float[]>> rows = new ArrayList<>();
        for (int i = 0; i < queries.length; i++) {
            int[] nb = result.indices()[i];
            long[] ids = new long[nb.length + 1];
            ids[0] = datasetIndex[queries[i]];
            for (int j = 0; j < nb.length; j++) {
                ids[j + 1] = datasetIndex[nb[j]];
            }
            rows.add(ClusterAnalysis.images(data, ids));
        }
        Montage.write(out.resolve("neighbours.png"), rows, data.imageShape(), 2);
    }
}
