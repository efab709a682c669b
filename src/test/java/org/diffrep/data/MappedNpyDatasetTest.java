package org.diffrep.data;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Npy;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** npy: samples are memory-mapped and give the same batches as the in-memory readers. */
class MappedNpyDatasetTest {

    static final int N = 300;

    /** The first N built-in MNIST digits as uint8 CHW pixels and labels. */
    private static byte[] digits(long[] labels) {
        Dataset mnist = DataSpec.open("builtin:mnist");
        byte[] px = new byte[N * 784];
        try (PointerScope s = new PointerScope()) {
            long[] idx = new long[N];
            for (int i = 0; i < N; i++) {
                idx[i] = i;
                labels[i] = mnist.label(i);
            }
            float[] f = Tensors.toFloats(mnist.batch(idx).images());
            for (int i = 0; i < f.length; i++) {
                px[i] = (byte) Math.round((f[i] + 1f) * 127.5f);
            }
        }
        return px;
    }

    private static float[] batch(Dataset d, long... idx) {
        try (PointerScope s = new PointerScope()) {
            return Tensors.toFloats(d.batch(idx).images());
        }
    }

    @Test
    void realDigitsMappedInChunksMatchTheBuiltinBatches(@TempDir Path tmp) {
        long[] labels = new long[N];
        byte[] px = digits(labels);
        Path x = tmp.resolve("x.npy"), y = tmp.resolve("y.npy");
        Npy.write(x, px, N, 1, 28, 28);
        Npy.write(y, labels, N);
        Dataset spec = DataSpec.open("npy:" + x + "," + y);
        assertInstanceOf(MappedNpyDataset.class, spec);
        assertEquals(N, spec.size());
        assertArrayEquals(new int[]{1, 28, 28}, spec.imageShape());
        assertEquals(10, spec.numClasses());

        Dataset mnist = DataSpec.open("builtin:mnist");
        // 7 samples per mapped chunk, so batches cross chunk boundaries.
        Npy.Header h = Npy.readHeader(x);
        int[] lab = new int[N];
        for (int i = 0; i < N; i++) {
            lab[i] = (int) labels[i];
        }
        Dataset chunked = new MappedNpyDataset(x, h, new int[]{1, 28, 28}, false, lab,
                InMemoryDataset.genericNames(10), "test", 7 * 784);
        long[] idx = {0, 6, 7, 13, 14, 299, 150, 6};
        assertArrayEquals(batch(mnist, idx), batch(spec, idx));
        assertArrayEquals(batch(mnist, idx), batch(chunked, idx));
        for (long i : idx) {
            assertEquals(mnist.label((int) i), chunked.label((int) i));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> batch(chunked, N));
    }

    @Test
    void channelsLastIsTransposedAndFloatIsAsStored(@TempDir Path tmp) {
        int n = 5, h = 5, w = 3, c = 3;
        Random rng = new Random(3);
        float[] chw = new float[n * c * h * w], hwc = new float[chw.length];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < c; k++) {
                for (int p = 0; p < h * w; p++) {
                    float v = (float) rng.nextGaussian();
                    chw[i * c * h * w + k * h * w + p] = v;
                    hwc[i * c * h * w + p * c + k] = v;
                }
            }
        }
        Path first = tmp.resolve("nchw.npy"), last = tmp.resolve("nhwc.npy"), y = tmp.resolve("y.npy");
        Npy.write(first, chw, n, c, h, w);
        Npy.write(last, hwc, n, h, w, c);
        Npy.write(y, new long[]{0, 1, 2, 1, 0}, n);
        Dataset a = DataSpec.open("npy:" + first + "," + y);
        Dataset b = DataSpec.open("npy:" + last + "," + y); // [5, 5, 3, 3]: last dim 3, second 5 -> channels last
        Dataset forced = DataSpec.open("npy:" + last + "," + y + ",layout=nhwc");
        assertArrayEquals(new int[]{3, 5, 3}, b.imageShape());
        assertArrayEquals(chw, batch(a, 0, 1, 2, 3, 4));
        assertArrayEquals(chw, batch(b, 0, 1, 2, 3, 4));
        assertArrayEquals(chw, batch(forced, 0, 1, 2, 3, 4));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> DataSpec.open("npy:" + last + "," + y + ",layout=hwc"));
        assertTrue(e.getMessage().contains("layout=hwc"), e.getMessage());
    }
}
