package org.diffrep.data;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Npy;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyPairReaderTest {

    @TempDir
    Path dir;

    @Test
    void mnistRoundTripThroughNpy() {
        Dataset mnist = DataSpec.open("builtin:mnist");
        int n = 300;
        byte[] pixels = new byte[n * 784];
        long[] labels = new long[n];
        try (PointerScope scope = new PointerScope()) {
            long[] idx = new long[n];
            for (int i = 0; i < n; i++) {
                idx[i] = 7 * i;
            }
            Batch b = mnist.batch(idx);
            float[] x = Tensors.toFloats(b.images());
            for (int i = 0; i < x.length; i++) {
                pixels[i] = (byte) Math.round((x[i] + 1) * 127.5f);
            }
            labels = Tensors.toLongs(b.labels());
            Npy.write(dir.resolve("x.npy"), pixels, n, 1, 28, 28);
            Npy.write(dir.resolve("y.npy"), labels);
            Dataset d = DataSpec.open("npy:" + dir.resolve("x.npy") + "," + dir.resolve("y.npy"));
            assertEquals(n, d.size());
            assertArrayEquals(new int[]{1, 28, 28}, d.imageShape());
            assertEquals(10, d.numClasses());
            long[] all = new long[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
            assertArrayEquals(x, Tensors.toFloats(d.batch(all).images()));
            assertArrayEquals(labels, Tensors.toLongs(d.batch(all).labels()));
        }
    }

    @Test
    void floatVectorsAreReturnedAsStored() {
        float[] x = {0.5f, -3f, 7f, 1f, 2f, 3f};
        Npy.write(dir.resolve("x.npy"), x, 3, 2);
        Npy.write(dir.resolve("y.npy"), new long[]{2, 0, 1});
        Dataset d = DataSpec.open("npy:" + dir.resolve("x.npy") + "," + dir.resolve("y.npy"));
        assertArrayEquals(new int[]{1, 1, 2}, d.imageShape());
        try (PointerScope scope = new PointerScope()) {
            Batch b = d.batch(new long[]{2, 0});
            assertArrayEquals(new long[]{2, 1, 1, 2}, Tensors.shape(b.images()));
            assertArrayEquals(new float[]{2f, 3f, 0.5f, -3f}, Tensors.toFloats(b.images()));
        }
    }

    @Test
    void wrongDtypeShapeAndLabelsAreRefused() {
        Npy.write(dir.resolve("x.npy"), new float[6], 3, 2);
        Npy.write(dir.resolve("y2.npy"), new long[]{0, 1});
        assertError("x.npy", "y2.npy", "3 samples but 2 labels");
        Npy.write(dir.resolve("yf.npy"), new float[]{0, 1, 2});
        assertError("x.npy", "yf.npy", "expected integer labels");
        Npy.write(dir.resolve("yneg.npy"), new long[]{0, -1, 2});
        assertError("x.npy", "yneg.npy", "label[1] = -1");
        Npy.write(dir.resolve("y2d.npy"), new long[]{0, 1, 2}, 3, 1);
        assertError("x.npy", "y2d.npy", "expected [N]");
        Npy.write(dir.resolve("y.npy"), new long[]{0, 1, 2});
        Npy.write(dir.resolve("xi.npy"), new long[]{0, 1, 2}, 3, 1);
        assertError("xi.npy", "y.npy", "expected uint8, float32 or float64");
        Npy.write(dir.resolve("x1.npy"), new float[3]);
        assertError("x1.npy", "y.npy", "field shape");
        assertError("absent.npy", "y.npy", "no such file");
    }

    private void assertError(String x, String y, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> DataSpec.open("npy:" + dir.resolve(x) + "," + dir.resolve(y)));
        assertTrue(e.getMessage().contains(fragment) && (e.getMessage().contains(x) || e.getMessage().contains(y)), e.getMessage());
    }
}
