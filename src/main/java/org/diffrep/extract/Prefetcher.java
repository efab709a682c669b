package org.diffrep.extract;

import org.diffrep.data.Batch;
import org.diffrep.data.Dataset;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads and decodes batches on one background thread, at most two ahead, so that data loading
 * overlaps the forward of the current batch. The batches' tensors are created outside any
 * PointerScope; the consumer attaches them to its per-batch scope.
 */
final class Prefetcher implements AutoCloseable {

    private static final Object END = new Object();

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(2);
    private final Thread thread;
    private final AtomicLong readNanos = new AtomicLong();

    Prefetcher(Dataset data, List<long[]> batches) {
        thread = new Thread(() -> {
            try {
                for (long[] idx : batches) {
                    long t0 = System.nanoTime();
                    Batch b = data.batch(idx);
                    readNanos.addAndGet(System.nanoTime() - t0);
                    queue.put(b);
                }
                queue.put(END);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException | Error e) {
                try {
                    queue.put(e);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "diffrep-prefetch");
        thread.setDaemon(true);
        thread.start();
    }

    /** The next batch, or null after the last. Rethrows a failure of the reading thread. */
    Batch next() throws InterruptedException {
        Object o = queue.take();
        if (o == END) {
            return null;
        }
        if (o instanceof RuntimeException e) {
            throw e;
        }
        if (o instanceof Error e) {
            throw e;
        }
        return (Batch) o;
    }

    /** Seconds the reading thread spent reading and decoding. */
    double readSeconds() {
        return readNanos.get() / 1e9;
    }

    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
