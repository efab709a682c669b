package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.data.Dataset;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.diffrep.extract.FeatureStore;
import org.diffrep.ops.Tensors;
import org.diffrep.report.Montage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * k-means on one layer and sigma of a feature store, scored against the store's labels, and the files
 * {@code diffrep cluster} writes: assignments.npy (int64 [N]), centroids.npy (float32 [k, d]),
 * cluster.json, and optionally clusters.png (random members of the largest clusters, one row each).
 */
public record ClusterAnalysis(String store, String layer, float sigma, KMeansConfig config,
                              KMeansResult result, ClusterMetrics metrics) {

    /** Clusters features/LAYER/sigma_I of the store. */
    public static ClusterAnalysis run(FeatureStore store, String layer, int sigmaIndex, KMeansConfig cfg) {
        KMeansResult r;
        try (PointerScope scope = new PointerScope()) {
            Tensor x = store.featuresTensor(layer, sigmaIndex);
            r = KMeans.fit(x, cfg);
        }
        ClusterMetrics m = ClusterMetrics.of(r.assignments(), store.labels());
        return new ClusterAnalysis(store.dir().toString(), layer, store.sigmas()[sigmaIndex], cfg, r, m);
    }

    /** Writes assignments.npy, centroids.npy and cluster.json into {@code out}. */
    public void write(Path out) {
        OutputFiles.directory(out);
        long[] a = Arrays.stream(result.assignments()).asLongStream().toArray();
        Npy.write(out.resolve("assignments.npy"), a);
        int k = result.k(), d = result.centroids()[0].length;
        Npy.write(out.resolve("centroids.npy"), KMeans.flatten(result.centroids()), k, d);
        Json.write(out.resolve("cluster.json"), summary());
    }

    /** The JSON summary: settings, inertia, purity, NMI, ARI, sizes and the contingency table. */
    public Map<String, Object> summary() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("features", store);
        s.put("layer", layer);
        s.put("sigma", sigma);
        s.put("k", config.k());
        s.put("n_init", config.nInit());
        s.put("max_iter", config.maxIter());
        s.put("tol", config.tol());
        s.put("seed", config.seed());
        s.put("n", result.assignments().length);
        s.put("inertia", result.inertia());
        s.put("purity", metrics.purity());
        s.put("nmi", metrics.nmi());
        s.put("ari", metrics.ari());
        s.put("iterations", result.iterations());
        s.put("init_inertias", result.initInertias());
        s.put("sizes", result.sizes());
        s.put("classes", metrics.classes());
        s.put("contingency", metrics.contingency());
        return s;
    }

    /**
     * Writes a PNG with one row per cluster, the {@code clusters} largest first, each showing up to
     * {@code members} random members (seeded). {@code datasetIndex[i]} is the dataset index of store row i.
     */
    public void writeMontage(Path png, Dataset data, long[] datasetIndex, int clusters, int members, long seed) {
        int[] sizes = result.sizes();
        int[] assignment = result.assignments();
        Integer[] order = IntStream.range(0, sizes.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt((Integer j) -> -sizes[j]));
        Random rng = new Random(seed);
        List<List<float[]>> rows = new ArrayList<>();
        for (int r = 0; r < Math.min(clusters, order.length); r++) {
            int j = order[r];
            List<Integer> rowsOfJ = new ArrayList<>();
            for (int i = 0; i < assignment.length; i++) {
                if (assignment[i] == j) {
                    rowsOfJ.add(i);
                }
            }
            java.util.Collections.shuffle(rowsOfJ, rng);
            long[] pick = rowsOfJ.stream().limit(members).mapToLong(i -> datasetIndex[i]).toArray();
            rows.add(images(data, pick));
        }
        Montage.write(png, rows, data.imageShape(), 2);
    }

    /** Images of the given dataset indices, each as float [C*H*W]. */
    static List<float[]> images(Dataset data, long[] indices) {
        List<float[]> out = new ArrayList<>();
        if (indices.length == 0) {
            return out;
        }
        try (PointerScope scope = new PointerScope()) {
            float[] all = Tensors.toFloats(data.batch(indices).images());
            int s = data.sampleSize();
            for (int i = 0; i < indices.length; i++) {
                out.add(Arrays.copyOfRange(all, i * s, (i + 1) * s));
            }
        }
        return out;
    }
}
