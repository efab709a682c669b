package org.diffrep.spark;

import org.apache.spark.TaskContext;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.ExtractSummary;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.StoreWriter;
import org.diffrep.io.AtomicFiles;
import org.diffrep.model.Denoiser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * One Spark task: partition I of N extracted into {@code OUT.parts/part-I.attempt-A.tmp}, renamed to
 * {@code OUT.parts/part-I} when whole. A retried or speculative attempt writes its own directory, so two
 * attempts never mix; the first to finish wins the rename and a later one (byte-identical by construction)
 * removes its copy.
 */
final class PartitionTask {

    /**
     * Test hook: "I" (or "I:A") makes attempt 0 (or A) of partition I throw after its first shard is written,
     * the way a lost executor leaves a part half done. Read on the executor.
     */
    static final String FAIL_PROPERTY = "diffrep.spark.test.failPartition";

    private PartitionTask() {
    }

    /** The parts directory of the store {@code out}. */
    static Path partsDir(Path out) {
        return Path.of(out.toAbsolutePath().normalize() + ".parts");
    }

    static SparkExtraction.Part run(TaskSpec spec, int index, int count) {
        long t0 = System.nanoTime();
        ExecutorSetup.nativeCache();
        TaskContext tc = TaskContext.get();
        int attempt = tc == null ? 0 : tc.attemptNumber();
        String executor = tc == null ? "driver" : org.apache.spark.SparkEnv.get().executorId();
        // a GPU run uses the GPU Spark assigned the task (spark.task.resource.gpu.amount); a CPU run stays on the CPU
        String assigned = ExecutorSetup.device(tc);
        String device = "cpu".equals(spec.config().device()) ? "cpu"
                : assigned.startsWith("cuda") ? assigned : spec.config().device();
        Path dir = partsDir(Path.of(spec.out()));
        Path done = dir.resolve("part-" + index);
        try {
            // A part already renamed into place (a resumed job; a speculative copy that started late) is
            // reopened with resume: the store writer checks its settings against this run's and finds it complete.
            boolean finished = Files.isDirectory(done);
            Path tmp = dir.resolve("part-" + index + ".attempt-" + attempt + ".tmp");
            Path target = finished ? done : tmp;
            boolean resume = finished || (spec.resume() && Files.isDirectory(tmp));
            if (!resume) {
                AtomicFiles.deleteTree(tmp); // a killed earlier run's attempt of the same number
            }
            Files.createDirectories(dir);
            ExtractConfig cfg = spec.config().toBuilder().out(target).partition(index, count).resume(resume)
                    .threads(ExecutorSetup.threads(tc)).device(device).build();
            Dataset data = DataSpec.open(cfg.data());
            long t1 = System.nanoTime();
            Denoiser model = ModelCache.get(cfg.model(), spec.modelId(), device);
            long t2 = System.nanoTime();
            ExtractSummary sum = new Extractor(cfg).log(null).listener(failureHook(index, attempt)).run(model,
                    spec.modelId(), data);
            long t3 = System.nanoTime();
            if (!finished) {
                publish(tmp, done);
            }
            return new SparkExtraction.Part(index, attempt, done.toString(), sum.computed(), executor, device,
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
        } catch (IOException e) {
            throw new UncheckedIOException("partition " + index + "/" + count + " attempt " + attempt + ": " + e, e);
        }
    }

    /** Renames the whole part into place; if another attempt got there first, drops this copy. */
    private static void publish(Path tmp, Path done) throws IOException {
        try {
            Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            if (!isComplete(done)) {
                throw e;
            }
            AtomicFiles.deleteTree(tmp);
        }
    }

    private static boolean isComplete(Path part) throws IOException {
        Path mf = part.resolve("manifest.json");
        return Files.isRegularFile(mf) && StoreWriter.readManifest(mf).complete();
    }

    private static Extractor.Listener failureHook(int index, int attempt) {
        String fail = System.getProperty(FAIL_PROPERTY);
        if (fail == null) {
            return new Extractor.Listener() {
            };
        }
        String[] p = fail.split(":");
        boolean armed = Integer.parseInt(p[0]) == index && (p.length > 1 ? Integer.parseInt(p[1]) : 0) == attempt;
        return new Extractor.Listener() {
            @Override
            public void afterShard(int shard) {
                if (armed) {
                    throw new IllegalStateException(FAIL_PROPERTY + ": partition " + index + " attempt " + attempt
                            + " fails after shard " + shard + " (test hook)");
                }
            }
        };
    }
}
