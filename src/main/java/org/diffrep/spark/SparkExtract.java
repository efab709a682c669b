package org.diffrep.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.diffrep.cli.ExtractOptions;
import org.diffrep.cli.Main;
import org.diffrep.cli.StoreOptions;
import org.diffrep.extract.ExtractConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code spark-submit --class org.diffrep.spark.SparkExtract diffrep.jar ...}: {@code diffrep extract} on a
 * Spark cluster. The same options as {@code diffrep extract} (the same mixins) plus {@code --partitions}; the
 * store is the one {@code diffrep extract} writes with the same settings, byte for byte. Exit codes as diffrep's:
 * 2 with one message for bad input, 1 for a failure.
 */
@Command(name = "spark-extract", mixinStandardHelpOptions = true,
        description = "diffrep extract as an Apache Spark job: one task per partition writes a partial store beside"
                + " --out (OUT.parts), the driver merges them into --out, byte-identical to diffrep extract with the"
                + " same settings. Threads per task: spark.task.cpus; a task's GPU: Spark's gpu resource.")
public final class SparkExtract implements Runnable {

    @Mixin
    ExtractOptions extraction;

    @Mixin
    StoreOptions store;

    @Option(names = "--partitions", required = true, paramLabel = "N",
            description = "Spark tasks, one partition of the selected images each (see extract --partition).")
    int partitions;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master when not set by spark-submit, e.g. local[2] (default: spark.master, else local[*]).")
    String master;

    @Option(names = "--app-name", paramLabel = "NAME", description = "Spark application name (default: ${DEFAULT-VALUE}).")
    String appName = "diffrep extract";

    @Override
    public void run() {
        // the settings are checked before Spark starts (seconds): a typo costs no context
        ExtractConfig cfg = store.apply(extraction.builder()).build();
        SparkExtraction.checkPartitions(partitions);
        SparkConf conf = new SparkConf().setAppName(appName);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        long t0 = System.nanoTime();
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            System.err.printf("spark extract: Spark %s started in %.1f s, master %s, default parallelism %d%n",
                    sc.version(), (System.nanoTime() - t0) / 1e9, sc.master(), sc.defaultParallelism());
            SparkExtraction.Summary sum = SparkExtraction.run(sc, cfg, partitions, System.err);
            System.out.println(sum.store());
        }
    }

    public static void main(String[] args) {
        System.exit(Main.runCommand(new SparkExtract(), args));
    }
}
