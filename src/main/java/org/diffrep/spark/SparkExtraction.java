package org.diffrep.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.StoreMerge;
import org.diffrep.extract.StoreWriter;
import org.diffrep.io.AtomicFiles;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * An extraction as a Spark job: one task per partition ({@link PartitionTask}), each writing a partial store
 * onto the shared filesystem, then {@link StoreMerge} on the driver into the store one process would write,
 * byte for byte. Spark schedules, retries failed tasks and runs speculative copies; nothing here does.
 *
 * <p>Everything a user can get wrong is checked on the driver before a task starts (the settings, the model's
 * file and layers, the data, the partition count, the output directory), so bad input is one message, not a
 * task failure repeated spark.task.maxFailures times.
 */
public final class SparkExtraction {

    /**
     * What a task reports to the driver: its part, which attempt wrote it on which executor and device, and
     * where its time went (setup: data and configuration; model: loading it, 0 when the executor had it).
     */
    public record Part(int index, int attempt, String part, long images, String executor, String device,
                       double setupSeconds, double modelSeconds, double extractSeconds) implements Serializable {
    }

    /** The outcome: the store, the tasks' reports, and the time of the whole job. */
    public record Summary(Path store, List<Part> parts, long images, double seconds,
                          double checkSeconds, double mergeSeconds) {
        public double imagesPerSecond() {
            return seconds > 0 ? images / seconds : 0;
        }

        public String line() {
            return String.format("spark extract: %d images in %d partitions in %.1f s: %.1f images/s (driver checks"
                    + " %.1f s, merge %.1f s)", images, parts.size(), seconds, imagesPerSecond(), checkSeconds,
                    mergeSeconds);
        }
    }

    private SparkExtraction() {
    }

    /**
     * Runs {@code cfg} (without a partition) as {@code partitions} tasks on {@code sc} into {@code cfg.out()}.
     *
     * @param log task reports and the summary line (null: silent)
     * @throws InvalidInputException naming the field (partitions, out, model, layers, data, ...) before any task
     */
    public static Summary run(JavaSparkContext sc, ExtractConfig cfg, int partitions, PrintStream log) {
        long t0 = System.nanoTime();
        if (cfg.partition() != null) {
            throw InvalidInputException.field("partition", ": Spark chooses the partitions itself; use partitions");
        }
        checkPartitions(partitions);
        if (cfg.model() == null || cfg.data() == null) {
            throw InvalidInputException.fields("{model} and {data} are required", "model", "data");
        }
        Path out = cfg.out().toAbsolutePath().normalize();
        if (cfg.resume() && isComplete(out)) {
            if (log != null) {
                log.println("spark extract: " + out + " is already complete; nothing to do");
            }
            return new Summary(out, List.of(), 0, 0, 0, 0);
        }
        checkOut(out);
        Path dir = PartitionTask.partsDir(out);
        if (!cfg.resume() && Files.exists(dir)) {
            throw InvalidInputException.field("out", ": " + dir + " holds the parts of an earlier run; continue it"
                    + " with resume (same settings) or remove it");
        }
        ExecutorSetup.nativeCache();
        String modelId = Extractor.fileId(cfg.model());
        Dataset data = DataSpec.open(cfg.data());
        Extractor extractor = new Extractor(cfg);
        extractor.check(ModelCache.get(cfg.model(), modelId), data);
        long selected = extractor.selectedCount(data);
        if (selected == 0) {
            throw InvalidInputException.fields("{data} " + cfg.data() + ": no images left after {split} "
                    + cfg.split().id() + (cfg.limit() > 0 ? " and {limit} " + cfg.limit() : ""), "data", "split",
                    "limit");
        }
        if (partitions > selected) {
            throw InvalidInputException.field("partitions", partitions + " exceeds the " + selected
                    + " selected images; use at most " + selected);
        }
        double check = (System.nanoTime() - t0) / 1e9;

        TaskSpec spec = TaskSpec.of(cfg.toBuilder().out(out).build(), modelId);
        List<Integer> indices = IntStream.range(0, partitions).boxed().toList();
        List<Part> results;
        try {
            results = sc.parallelize(indices, partitions).map(i -> PartitionTask.run(spec, i, partitions)).collect()
                    .stream().sorted(Comparator.comparingInt(Part::index)).toList();
        } catch (Exception e) { // Scala's SparkException is checked in Java but undeclared
            throw taskFailure(e);
        }
        if (log != null) {
            for (Part r : results) {
                log.printf("spark extract: part %d/%d (attempt %d, executor %s, %s): %d images, setup %.2f s, model"
                                + " %.2f s, extract %.2f s%n", r.index(), partitions, r.attempt(), r.executor(),
                        r.device(), r.images(), r.setupSeconds(), r.modelSeconds(), r.extractSeconds());
            }
        }
        long m0 = System.nanoTime();
        try {
            StoreMerge.merge(results.stream().map(r -> Path.of(r.part())).toList(), out);
            AtomicFiles.deleteTree(dir); // the parts, and the copies of losing attempts
        } catch (IOException e) {
            throw new UncheckedIOException("merging the parts in " + dir + " into " + out + " failed: " + e, e);
        }
        long end = System.nanoTime();
        Summary sum = new Summary(out, results, selected, (end - t0) / 1e9, check, (end - m0) / 1e9);
        if (log != null) {
            log.println(sum.line());
        }
        return sum;
    }

    /** A partition count below 1 is refused (before Spark starts, where the caller can). */
    static void checkPartitions(int partitions) {
        if (partitions < 1) {
            throw InvalidInputException.field("partitions", "must be >= 1, got " + partitions);
        }
    }

    /**
     * What a failed job throws: the task's own error when it says what was wrong (bad input, exit 2; an I/O
     * error, exit 1), not Spark's wrapper with the executor's stack trace in its message.
     */
    static RuntimeException taskFailure(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidInputException bad) {
                return bad;
            }
            if (t instanceof UncheckedIOException io) {
                return io;
            }
            if (t instanceof IOException io) {
                return new UncheckedIOException("a Spark task failed: " + io.getMessage(), io);
            }
        }
        String message = String.valueOf(e.getMessage()).lines().findFirst().orElse("").strip();
        return new IllegalStateException("the Spark job failed: " + message, e);
    }

    private static boolean isComplete(Path store) {
        Path mf = store.resolve("manifest.json");
        try {
            return Files.isRegularFile(mf) && StoreWriter.readManifest(mf).complete();
        } catch (IOException e) {
            return false;
        }
    }

    /** The merged store needs a new or empty directory (the parts go beside it, in OUT.parts). */
    private static void checkOut(Path out) {
        if (!Files.exists(out)) {
            return;
        }
        if (!Files.isDirectory(out)) {
            throw InvalidInputException.field("out", out + " is not a directory");
        }
        try (Stream<Path> s = Files.list(out)) {
            if (s.findAny().isPresent()) {
                throw InvalidInputException.field("out", out + " is not empty; choose an empty or new directory");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
