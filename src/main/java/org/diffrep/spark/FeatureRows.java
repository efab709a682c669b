package org.diffrep.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.data.EncodedImages;
import org.diffrep.data.InMemoryDataset;
import org.diffrep.extract.BatchFeatures;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The rows of one DataFrame partition with their feature columns appended ({@link DiffrepFeatures}): rows are
 * read a batch at a time, the batch's images decoded into the model's shape, its features computed by
 * {@link BatchFeatures} as an extraction would, and the rows handed on. Memory: one batch.
 */
final class FeatureRows {

    /** What the executors need: the settings, the model's id, and where the image and id columns are. */
    record Spec(TaskSpec task, int imageField, int idField, boolean encoded) implements Serializable {
    }

    private final Spec spec;
    private final ExtractConfig cfg;

    FeatureRows(Spec spec) {
        this.spec = spec;
        this.cfg = spec.task().config();
    }

    Iterator<Row> apply(Iterator<Row> rows) {
        if (!rows.hasNext()) {
            return rows; // an empty partition loads no model
        }
        ExecutorSetup.nativeCache();
        Threads.set(ExecutorSetup.threads(TaskContext.get()));
        Denoiser model = ModelCache.get(cfg.model(), spec.task().modelId());
        BatchFeatures features = new BatchFeatures(cfg);
        return new Iterator<>() {
            private final List<Row> out = new ArrayList<>();
            private int next;
            private long rank;

            @Override
            public boolean hasNext() {
                if (next < out.size()) {
                    return true;
                }
                out.clear();
                next = 0;
                List<Row> batch = new ArrayList<>();
                while (batch.size() < cfg.batch() && rows.hasNext()) {
                    batch.add(rows.next());
                }
                if (batch.isEmpty()) {
                    return false;
                }
                out.addAll(compute(model, features, batch, rank));
                rank += batch.size();
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return out.get(next++);
            }
        };
    }

    /** The batch's rows with one float array per layer x sigma appended. */
    private List<Row> compute(Denoiser model, BatchFeatures features, List<Row> batch, long first) {
        int n = batch.size();
        long[] shape = model.inputShape();
        int c = (int) shape[0], h = (int) shape[1], w = (int) shape[2];
        int per = c * h * w;
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = spec.idField() < 0 ? first + i : ((Number) batch.get(i).get(spec.idField())).longValue();
        }
        int s = cfg.sigmas().length;
        List<String> layers = cfg.layers();
        Object[][] values = new Object[n][];
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            Tensor images = images(batch, c, h, w, per, first);
            var pooled = features.pooled(model, images, ids, first);
            for (int i = 0; i < n; i++) {
                Row r = batch.get(i);
                Object[] v = new Object[r.length() + layers.size() * s];
                for (int k = 0; k < r.length(); k++) {
                    v[k] = r.get(k);
                }
                values[i] = v;
            }
            int col = batch.get(0).length();
            for (String layer : layers) {
                Tensor[] p = pooled.get(layer);
                for (int j = 0; j < s; j++) {
                    Tensor rowsJ = BatchFeatures.sigmaRows(p, n, s, j)[p[0] != null && p[2] == null ? 0 : 2];
                    int dim = (int) rowsJ.size(1);
                    float[] all = Tensors.toFloats(rowsJ);
                    for (int i = 0; i < n; i++) {
                        float[] f = new float[dim];
                        System.arraycopy(all, i * dim, f, 0, dim);
                        values[i][col] = f;
                    }
                    col++;
                }
            }
        }
        List<Row> out = new ArrayList<>(n);
        for (Object[] v : values) {
            out.add(RowFactory.create(v));
        }
        return out;
    }

    /** float32 [n, C, H, W] in [-1, 1]: decoded and scaled as folder: does, or the array column as it is. */
    private Tensor images(List<Row> batch, int c, int h, int w, int per, long first) {
        int n = batch.size();
        long[] idx = new long[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        int[] labels = new int[n];
        if (spec.encoded()) {
            if (h != w) {
                throw new InvalidInputException("DiffrepFeatures: the model takes " + h + "x" + w
                        + " images; encoded images are decoded into squares");
            }
            byte[] pixels = new byte[n * per];
            for (int i = 0; i < n; i++) {
                byte[] enc = (byte[]) batch.get(i).get(spec.imageField());
                EncodedImages.decodeInto(enc, "row " + (first + i) + " of the partition", h, c, pixels, i * per);
            }
            return InMemoryDataset.ofPixels("dataframe", new int[]{c, h, w}, pixels, labels,
                    InMemoryDataset.genericNames(1), null).batch(idx).images();
        }
        float[] values = new float[n * per];
        for (int i = 0; i < n; i++) {
            List<Object> a = batch.get(i).getList(spec.imageField());
            if (a == null || a.size() != per) {
                throw new InvalidInputException("DiffrepFeatures: row " + (first + i) + " of the partition has "
                        + (a == null ? "no" : a.size()) + " values; the model takes C*H*W = " + per);
            }
            for (int k = 0; k < per; k++) {
                values[i * per + k] = ((Number) a.get(k)).floatValue();
            }
        }
        return Tensors.fromFloats(values, n, c, h, w);
    }
}
