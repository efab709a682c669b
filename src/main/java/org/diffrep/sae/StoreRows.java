package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Rows {@code ids} of a [N, D] float32 tensor (a memory-mapped store array, or rows in memory): pooled
 * features, one row per image. Batches follow a permutation of the ids, reshuffled when the next batch
 * would run past its end.
 */
public final class StoreRows implements SaeRows {

    private final Tensor features;
    private final long[] ids;
    private final String source;

    public StoreRows(Tensor features, long[] ids, String source) {
        this.features = features;
        this.ids = ids.clone();
        this.source = source;
    }

    /** All rows of an in-memory tensor [N, D]. */
    public static StoreRows all(Tensor rows, String source) {
        return new StoreRows(rows, java.util.stream.LongStream.range(0, rows.size(0)).toArray(), source);
    }

    @Override
    public int width() {
        return (int) features.size(1);
    }

    @Override
    public long count() {
        return ids.length;
    }

    @Override
    public String source() {
        return source;
    }

    /** The tensor the rows are taken from, [N, D]. */
    public Tensor features() {
        return features;
    }

    @Override
    public Tensor sample(int max, Random rng) {
        long[] copy = ids.clone();
        if (copy.length > max) {
            SaeRows.shuffle(copy, rng);
            copy = Arrays.copyOf(copy, max);
        }
        return RowBatches.rows(features, copy, 0, copy.length);
    }

    @Override
    public Cursor cursor() {
        long[] order = ids.clone();
        return SaeRows.shuffledEpochs(order, (o, from, n) -> RowBatches.rows(features, o, from, n));
    }

    @Override
    public void scan(int batch, Consumer<Tensor> each) {
        for (int s = 0; s < ids.length; s += batch) {
            try (PointerScope scope = new PointerScope()) {
                each.accept(RowBatches.rows(features, ids, s, Math.min(batch, ids.length - s)));
            }
        }
    }

    @Override
    public void requireFinite() {
        RowBatches.requireFinite(features, source);
    }
}
