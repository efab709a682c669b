package org.diffrep.cli;

import org.diffrep.analysis.NeighbourAnalysis;
import org.diffrep.analysis.OutputFiles;
import org.diffrep.analysis.StoreRows;
import org.diffrep.data.DataSpec;
import org.diffrep.extract.FeatureStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code diffrep neighbours}: Euclidean nearest neighbours of query rows of a feature store. */
@Command(name = "neighbours", mixinStandardHelpOptions = true,
        description = "Nearest neighbours (Euclidean) of some rows of a feature store; neighbours.json and, with "
                + "--data, neighbours.png (one row per query: the query, then its neighbours).")
public final class NeighboursCommand implements Callable<Integer> {

    @Option(names = "--features", required = true, paramLabel = "DIR", description = "Feature store directory.")
    Path features;

    @Option(names = "--layer", required = true, paramLabel = "L", description = "Layer.")
    String layer;

    @Option(names = "--sigma", required = true, paramLabel = "S", description = "Noise level as stored (or #INDEX).")
    String sigma;

    @Option(names = "--query", required = true, split = ",", paramLabel = "I,J,...", description = "Store row indices.")
    List<Integer> query;

    @Option(names = "--k", defaultValue = "8", description = "Neighbours per query (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--data", paramLabel = "SPEC", description = "Dataset the store was extracted from (for the montage).")
    String data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public Integer call() {
        FeatureStore store = FeatureStore.open(features);
        int si = StoreRows.sigmaIndex(store, sigma);
        var dataset = data == null ? null : DataSpec.open(data);
        if (dataset != null) {
            StoreRows.checkDataset(store, dataset, data);
        }
        OutputFiles.directory(out);
        int[] q = query.stream().mapToInt(Integer::intValue).toArray();
        NeighbourAnalysis a = NeighbourAnalysis.run(store, layer, si, q, k);
        a.write(out, dataset, StoreRows.datasetIndices(store));
        int agree = 0;
        for (int i = 0; i < q.length; i++) {
            for (int j : a.result().indices()[i]) {
                agree += a.labels()[j] == a.labels()[q[i]] ? 1 : 0;
            }
        }
        System.out.printf("%d queries, k %d: %.1f%% of neighbours share the query's label; wrote %s%n",
                q.length, k, 100.0 * agree / (q.length * k), out.resolve("neighbours.json"));
        return 0;
    }
}
