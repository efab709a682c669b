package org.diffrep.analysis;

import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.StoreLayout;

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
            int i = parseInt(sigma.substring(1), "sigma");
            if (i < 0 || i >= s.length) {
                throw InvalidInputException.field("sigma", sigma + ": index out of range [0, " + s.length + ")");
            }
            return i;
        }
        double v;
        try {
            v = Double.parseDouble(sigma);
        } catch (NumberFormatException e) {
            throw InvalidInputException.field("sigma", ": '" + sigma + "' is not a number (or #INDEX)");
        }
        for (int i = 0; i < s.length; i++) {
            if (Math.abs(s[i] - v) <= 1e-3 * Math.max(Math.abs(v), 1e-6)) {
                return i;
            }
        }
        throw InvalidInputException.field("sigma", sigma + ": not in the store " + store.dir()
                + "; stored sigmas are " + Arrays.toString(s));
    }

    /** Dataset index of each store row (indices.npy where the store has it, else 0..N-1). */
    public static long[] datasetIndices(FeatureStore store) {
        if (store.files().contains(StoreLayout.INDICES)) {
            return store.map(StoreLayout.INDICES).toLongs();
        }
        long[] out = new long[store.count()];
        Arrays.setAll(out, i -> i);
        return out;
    }

    /**
     * Checks, before any output is written, that {@code data} is the dataset the store was extracted from: every
     * row's dataset index lies inside it and the dataset's label there equals the row's stored label.
     *
     * @param spec the data spec as given, for the message
     * @throws InvalidInputException naming the spec, the first row that disagrees and the store's recorded data spec
     */
    public static void checkDataset(FeatureStore store, Dataset data, String spec) {
        long[] index = datasetIndices(store);
        long[] labels = store.labels();
        String recorded = store.settings().data();
        String expected = "; expected the dataset the store was extracted from (" + store.dir().resolve(StoreLayout.MANIFEST)
                + " records data " + recorded + ")";
        int size = data.size();
        int mismatches = 0;
        int first = -1;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= size) {
                throw InvalidInputException.field("data", spec + ": store row " + i + " is dataset index " + index[i]
                        + " but the dataset has " + size + " samples (0.." + (size - 1) + ")" + expected);
            }
            if (data.label((int) index[i]) != labels[i]) {
                mismatches++;
                first = first < 0 ? i : first;
            }
        }
        if (mismatches > 0) {
            throw InvalidInputException.field("data", spec + ": " + mismatches + " of " + index.length
                    + " store rows have another label in the dataset (row " + first + ": stored label " + labels[first]
                    + ", dataset label " + data.label((int) index[first]) + " at index " + index[first] + ")" + expected);
        }
    }

    /** An integer for the configuration field {@code field}. */
    static int parseInt(String s, String field) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw InvalidInputException.field(field, ": '" + s + "' is not an integer");
        }
    }
}
