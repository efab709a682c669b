package org.diffrep.bench;

import org.bytedeco.javacpp.PointerScope;

import java.lang.management.ManagementFactory;
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
        for (double[] t : new double[][]{ta, tb, ca, cb}) {
            Arrays.sort(t);
        }
        return new double[]{ta[reps / 2], tb[reps / 2], ca[reps / 2], cb[reps / 2]};
    }

    /**
     * CPU seconds of the whole process (all threads, the kernels' OpenMP threads among them), or NaN
     * where the JVM cannot tell. On a shared machine this does not grow with the load as wall time
     * does.
     */
    static double processCpuSeconds() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long ns = os.getProcessCpuTime();
            return ns < 0 ? Double.NaN : ns / 1e9;
        }
        return Double.NaN;
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
