package org.diffrep.study;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.analysis.StoreRows;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.extract.FeatureStore;
import org.diffrep.ops.Tensors;
import org.diffrep.probe.Probe;
import org.diffrep.probe.ProbeResult;

import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * The raw-pixel baseline of a probe study: the same probe on the flattened input images of the store's rows, with the
 * store's split and clean labels. A representation is worth probing only where it beats this line.
 */
public final class PixelBaseline {

    /** Inputs beyond this many values (rows x pixels, 1 GiB of float32) are not loaded for a baseline. */
    static final long MAX_VALUES = 1L << 28;

    /**
     * A baseline, or why there is none.
     *
     * @param data    the store's recorded data spec
     * @param probe   the probe kind fitted on the pixels
     * @param result  its test result; null when skipped
     * @param skipped why no baseline was fitted (data spec no longer opens, another dataset, too large); null when fitted
     */
    public record Result(String data, String probe, ProbeResult result, String skipped) {
    }

    private PixelBaseline() {
    }

    /**
     * Opens the store's recorded data spec and fits {@code s}'s probe on its pixels; a spec that no longer opens (a
     * moved folder, an in-memory dataset), a dataset that does not match the store, or inputs beyond
     * {@link #MAX_VALUES} give a skipped result saying why, never an error.
     */
    public static Result of(FeatureStore store, ProbeStudy.Settings s) {
        String spec = store.settings().data();
        Dataset data;
        try {
            data = DataSpec.open(spec);
        } catch (InvalidInputException | UncheckedIOException e) {
            return new Result(spec, s.kind().id(), null, "the store's data spec does not open here: " + e.getMessage());
        }
        long values = (long) store.count() * data.sampleSize();
        if (values > MAX_VALUES) {
            return new Result(spec, s.kind().id(), null, store.count() + " rows x " + data.sampleSize()
                    + " pixels is more than the baseline loads (" + MAX_VALUES + " values)");
        }
        try {
            StoreRows.checkDataset(store, data, spec);
        } catch (InvalidInputException e) {
            return new Result(spec, s.kind().id(), null, e.getMessage());
        }
        return new Result(spec, s.kind().id(), fit(store, data, s), null);
    }

    /** Fits {@code s}'s probe on the raw pixels of the store's rows in {@code data}: train rows, clean labels. */
    public static ProbeResult fit(FeatureStore store, Dataset data, ProbeStudy.Settings s) {
        long[] indices = StoreRows.datasetIndices(store);
        long[] labels = store.labels();
        boolean[] train = store.trainMask();
        int k = 0;
        for (long y : labels) {
            k = (int) Math.max(k, y + 1);
        }
        long[] tr = rows(train, true), te = rows(train, false);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = data.batch(indices).images().reshape(indices.length, -1).to(torch.ScalarType.Float);
            Tensor xTrain = x.index_select(0, Tensors.fromLongs(tr));
            Tensor xTest = x.index_select(0, Tensors.fromLongs(te));
            Probe p = ProbeStudy.fit(s, xTrain, pick(labels, tr), k);
            return p.evaluate(xTest, pick(labels, te));
        }
    }

    private static long[] rows(boolean[] mask, boolean want) {
        long[] out = new long[mask.length];
        int n = 0;
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] == want) {
                out[n++] = i;
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static long[] pick(long[] a, long[] idx) {
        long[] out = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = a[(int) idx[i]];
        }
        return out;
    }
}
