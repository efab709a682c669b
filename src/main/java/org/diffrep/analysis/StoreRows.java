package org.diffrep.analysis;

import org.diffrep.InvalidInputException;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.StoreLayout;

import java.nio.LongBuffer;
import java.util.Arrays;

/** How the analyses address a feature store: a sigma given by value, and the dataset index of each row. */
public final class StoreRows {

    private StoreRows() {
    }

    /**
     * Index of the stored sigma equal to {@code sigma} (within 0.1% relative); the error lists the stored
     * values. "#I" selects index I directly.
     */
    public static int sigmaIndex(FeatureStore store, String sigma) {
        float[] s = store.sigmas();
        if (sigma.startsWith("#")) {
            int i = parseInt(sigma.substring(1), "--sigma");
            if (i < 0 || i >= s.length) {
                throw new InvalidInputException("--sigma " + sigma + ": index out of range [0, " + s.length + ")");
            }
            return i;
        }
        double v;
        try {
            v = Double.parseDouble(sigma);
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--sigma: '" + sigma + "' is not a number (or #INDEX)");
        }
        for (int i = 0; i < s.length; i++) {
            if (Math.abs(s[i] - v) <= 1e-3 * Math.max(Math.abs(v), 1e-6)) {
                return i;
            }
        }
        throw new InvalidInputException("--sigma " + sigma + ": not in the store " + store.dir()
                + "; stored sigmas are " + Arrays.toString(s));
    }

    /** Dataset index of each store row (indices.npy where the store has it, else 0..N-1). */
    public static long[] datasetIndices(FeatureStore store) {
        if (store.files().contains(StoreLayout.INDICES)) {
            LongBuffer b = store.map(StoreLayout.INDICES).data().asLongBuffer();
            long[] out = new long[b.remaining()];
            b.get(out);
            return out;
        }
        long[] out = new long[store.count()];
        Arrays.setAll(out, i -> i);
        return out;
    }

    static int parseInt(String s, String what) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new InvalidInputException(what + ": '" + s + "' is not an integer");
        }
    }
}
