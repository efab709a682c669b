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
}
