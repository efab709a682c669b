package org.diffrep.cli;

import org.diffrep.analysis.ClusterAnalysis;
import org.diffrep.analysis.KMeansConfig;
import org.diffrep.analysis.OutputFiles;
import org.diffrep.analysis.StoreRows;
import org.diffrep.data.DataSpec;
import org.diffrep.extract.FeatureStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code diffrep cluster}: k-means on stored features, scored against the labels; defaults from {@link KMeansConfig}. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "k-means (k-means++ seeding, Lloyd iterations, best of n-init) on one layer and sigma of a "
                + "feature store; writes assignments.npy, centroids.npy, cluster.json (inertia, purity, NMI, ARI, "
                + "sizes) and, with --data, clusters.png.")
public final class ClusterCommand implements Callable<Integer> {

    private static final KMeansConfig D = KMeansConfig.DEFAULTS;

    @Option(names = "--features", required = true, paramLabel = "DIR", description = "Feature store directory.")
    Path features;

    @Option(names = "--layer", required = true, paramLabel = "L", description = "Layer (tap) name, e.g. mid.")
    String layer;

    @Option(names = "--sigma", required = true, paramLabel = "S",
            description = "Noise level as stored (a value, or #INDEX for the I-th stored sigma).")
    String sigma;

    @Option(names = "--k", required = true, paramLabel = "K", description = "Number of clusters.")
    int k;

    @Option(names = "--n-init", description = "k-means++ starts; best inertia wins (default: ${DEFAULT-VALUE}).")
    int nInit = D.nInit();

    @Option(names = "--max-iter", description = "Lloyd iterations per start at most (default: ${DEFAULT-VALUE}).")
    int maxIter = D.maxIter();

    @Option(names = "--tol",
            description = "Stop when the squared centre shift is below tol times the mean feature variance (default: ${DEFAULT-VALUE}).")
    double tol = D.tol();

    @Option(names = "--seed", description = "Seed of the seeding (default: ${DEFAULT-VALUE}).")
    long seed = D.seed();

    @Option(names = "--data", paramLabel = "SPEC", description = "Dataset the store was extracted from; draws clusters.png.")
    String data;

    @Option(names = "--montage-clusters", defaultValue = "10", description = "Largest clusters shown (default: ${DEFAULT-VALUE}).")
    int montageClusters;

    @Option(names = "--montage-members", defaultValue = "12", description = "Random members per cluster shown (default: ${DEFAULT-VALUE}).")
    int montageMembers;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Override
    public Integer call() {
        KMeansConfig cfg = KMeansConfig.builder().k(k).nInit(nInit).maxIter(maxIter).tol(tol).seed(seed).build();
        FeatureStore store = FeatureStore.open(features);
        int si = StoreRows.sigmaIndex(store, sigma);
        var dataset = data == null ? null : DataSpec.open(data);
        if (dataset != null) {
            StoreRows.checkDataset(store, dataset, data);
        }
        OutputFiles.directory(out);
        long t0 = System.nanoTime();
        ClusterAnalysis a = ClusterAnalysis.run(store, layer, si, cfg);
        a.write(out);
        if (dataset != null) {
            a.writeMontage(out.resolve("clusters.png"), dataset, StoreRows.datasetIndices(store),
                    montageClusters, montageMembers, seed);
        }
        System.out.printf("k-means: N %d, k %d, n-init %d, %.1f s%n", a.result().assignments().length, k, nInit,
                (System.nanoTime() - t0) / 1e9);
        System.out.printf("%-10s %14s%n%-10s %14.4f%n%-10s %14.4f%n%-10s %14.4f%n%-10s %14.4f%n",
                "metric", "value", "inertia", a.result().inertia(), "purity", a.metrics().purity(),
                "NMI", a.metrics().nmi(), "ARI", a.metrics().ari());
        System.out.println("wrote " + out.resolve("cluster.json"));
        return 0;
    }
}
