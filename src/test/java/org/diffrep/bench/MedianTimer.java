package org.diffrep.bench;

import org.bytedeco.javacpp.PointerScope;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Median wall time of repeated runs after warm-up; each run in its own scope, as a user's loop frees its outputs. */
final class MedianTimer {

    private MedianTimer() {
    }

    /** Median seconds of {@code reps} timed runs after {@code warmups} untimed ones. */
    static double seconds(int warmups, int reps, Runnable r) {
        for (int i = 0; i < warmups; i++) {
            try (PointerScope s = new PointerScope()) {
                r.run();
            }
        }
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            try (PointerScope s = new PointerScope()) {
                long t0 = System.nanoTime();
                r.run();
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    /**
     * Median seconds of {@code a} and of {@code b}, their runs interleaved (a b, b a, a b, ...) so that
     * both see the same load on a shared machine; {@code warmups} untimed runs of each first.
     */
    static double[] pair(int warmups, int reps, Runnable a, Runnable b) {
        for (int i = 0; i < warmups; i++) {
            once(a, null, 0);
            once(b, null, 0);
        }
        double[] ta = new double[reps], tb = new double[reps], ca = new double[reps], cb = new double[reps];
        for (int i = 0; i < reps; i++) {
            if (i % 2 == 0) {
                ta[i] = once(a, ca, i);
                tb[i] = once(b, cb, i);
            } else {
                tb[i] = once(b, cb, i);
                ta[i] = once(a, ca, i);
            }
        }
        // what reading the counters costs (tens of threads' files), so that it is not counted
        double[] c0 = new double[reps];
        for (int i = 0; i < reps; i++) {
            once(() -> { }, c0, i);
        }
        for (double[] t : new double[][]{ta, tb, ca, cb, c0}) {
            Arrays.sort(t);
        }
        double over = c0[reps / 2];
        return new double[]{ta[reps / 2], tb[reps / 2], ca[reps / 2] - over, cb[reps / 2] - over};
    }

    /**
     * CPU seconds of the whole process (all threads, the kernels' OpenMP threads among them) from the
     * scheduler's nanosecond counters (/proc/self/task/N/schedstat; the JVM's own figure ticks in 10 ms),
     * or NaN where they cannot be read. On a shared machine this grows less with the load than wall time.
     */
    static double processCpuSeconds() {
        long ns = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                try {
                    String stat = Files.readString(t.resolve("schedstat"));
                    ns += Long.parseLong(stat.substring(0, stat.indexOf(' ')));
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return ns / 1e9;
    }

    /** Wall seconds of one run; its process CPU seconds go to cpu[i] when cpu is given. */
    private static double once(Runnable r, double[] cpu, int i) {
        try (PointerScope s = new PointerScope()) {
            double c0 = cpu == null ? 0 : processCpuSeconds();
            long t0 = System.nanoTime();
            r.run();
            double wall = (System.nanoTime() - t0) / 1e9;
            if (cpu != null) {
                cpu[i] = processCpuSeconds() - c0;
            }
            return wall;
        }
    }
}
