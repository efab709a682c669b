package org.diffrep.extract;

import org.diffrep.data.Batch;
import org.diffrep.data.Dataset;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads and decodes batches on {@code workers} background threads, so that decoding (PNG/JPEG members of
 * {@code folder:} and {@code tar:} sources) keeps up with the forward and overlaps it. Each worker decodes whole
 * batches; at most {@code workers + 1} batches are read ahead, so memory does not depend on the dataset's size, and
 * {@link #next} returns them in order. The batches' tensors are created outside any PointerScope; the consumer
 * attaches them to its per-batch scope.
 */
final class Prefetcher implements AutoCloseable {

    private final Dataset data;
    private final List<long[]> batches;
    private final ExecutorService pool;
    private final ArrayDeque<Future<Batch>> ahead = new ArrayDeque<>();
    private final int window;
    private final AtomicLong readNanos = new AtomicLong();
    private int submitted;

    Prefetcher(Dataset data, List<long[]> batches, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("need at least one decode worker, got " + workers);
        }
        this.data = data;
        this.batches = batches;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "diffrep-decode-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        // one batch in the consumer's hands is not counted: with one worker this is the old "two ahead"
        this.window = workers + 1;
        while (submitted < batches.size() && ahead.size() < window) {
            submitNext();
        }
    }

    private void submitNext() {
        long[] idx = batches.get(submitted++);
        ahead.add(pool.submit(() -> {
            long t0 = System.nanoTime();
            Batch b = data.batch(idx);
            readNanos.addAndGet(System.nanoTime() - t0);
            return b;
        }));
    }

    /** The next batch, or null after the last. Rethrows a failure of the reading threads. */
    Batch next() throws InterruptedException {
        Future<Batch> f = ahead.poll();
        if (f == null) {
            return null;
        }
        if (submitted < batches.size()) {
            submitNext();
        }
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("reading a batch failed", c);
        }
    }

    /** Thread-seconds the workers spent reading and decoding (summed over workers). */
    double readSeconds() {
        return readNanos.get() / 1e9;
    }

    @Override
    public void close() {
        pool.shutdownNow();
        // batches decoded but never taken hold native tensors outside any scope: free them
        for (Future<Batch> f : ahead) {
            if (f.isDone() && !f.isCancelled()) {
                try {
                    Batch b = f.get();
                    b.images().close();
                    b.labels().close();
                } catch (ExecutionException | InterruptedException | RuntimeException ignored) {
                    // a failed or interrupted read holds nothing to free
                }
            }
        }
        ahead.clear();
        try {
            pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
