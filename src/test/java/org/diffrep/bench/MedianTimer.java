package org.diffrep.bench;

import org.bytedeco.javacpp.PointerScope;

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
            once(a);
            once(b);
        }
        double[] ta = new double[reps], tb = new double[reps];
        for (int i = 0; i < reps; i++) {
            if (i % 2 == 0) {
                ta[i] = once(a);
                tb[i] = once(b);
            } else {
                tb[i] = once(b);
                ta[i] = once(a);
            }
        }
        Arrays.sort(ta);
        Arrays.sort(tb);
        return new double[]{ta[reps / 2], tb[reps / 2]};
    }

    private static double once(Runnable r) {
        try (PointerScope s = new PointerScope()) {
            long t0 = System.nanoTime();
            r.run();
            return (System.nanoTime() - t0) / 1e9;
        }
    }
}
