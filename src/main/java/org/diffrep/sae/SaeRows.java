package org.diffrep.sae;

import org.bytedeco.pytorch.Tensor;

import java.util.Random;
import java.util.function.Consumer;

/**
 * The rows an SAE trains on or is measured on, whatever holds them: pooled rows of a feature store
 * ({@link StoreRows}), tokens of a {@code --pool none} store ({@link StoreTokens}) or tokens streamed from a
 * model ({@link ModelTokens}). The trainer only draws shuffled batches and a sample; evaluation scans every row
 * once. Tensors are float32 CPU [n, D], created in the caller's PointerScope.
 */
public interface SaeRows {

    /** Width D of a row. */
    int width();

    /** Rows in one pass. */
    long count();

    /** Names the rows in messages and files. */
    String source();

    /** At most {@code max} rows drawn at random with {@code rng} (all rows, in order, when there are no more). */
    Tensor sample(int max, Random rng);

    /** A new stream of shuffled training batches (each call starts afresh, so two trainers see the same batches). */
    Cursor cursor();

    /** Every row once, in a fixed order, at most {@code batch} rows at a time. */
    void scan(int batch, Consumer<Tensor> each);

    /** Fails naming {@link #source} when a row holds NaN or infinity (before training, where that can be known). */
    default void requireFinite() {
    }

    /** Shuffled training batches. */
    interface Cursor {
        /** The next {@code n} rows (fewer only when there are fewer rows), shuffling with {@code rng}. */
        Tensor next(int n, Random rng);
    }

    /** Reads rows {@code order[from .. from+n)} as one batch. */
    interface RowReader {
        Tensor read(long[] order, int from, int n);
    }

    /**
     * The one epoch cursor of every row source: walks {@code order} in batches and reshuffles it (with the caller's
     * rng) whenever the next batch would run past its end, so every row is served once per pass.
     */
    static Cursor shuffledEpochs(long[] order, RowReader reader) {
        return new Cursor() {
            int at = order.length;

            @Override
            public Tensor next(int n, Random rng) {
                if (at + n > order.length) {
                    shuffle(order, rng);
                    at = 0;
                }
                int m = Math.min(n, order.length);
                Tensor x = reader.read(order, at, m);
                at += m;
                return x;
            }
        };
    }

    /** Fisher-Yates with {@code rng}: the one shuffle of every row source (the SAE benchmark relies on it). */
    static void shuffle(long[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
