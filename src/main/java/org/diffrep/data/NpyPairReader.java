package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;
import org.diffrep.io.Npy;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * A dataset from two .npy files: samples X of shape [N, C, H, W], [N, H, W, C], [N, H, W] (C = 1) or [N, D]
 * (read as {1, 1, D}), uint8 (scaled to [-1, 1] in batches) or float32/float64 (used as stored); labels Y of shape
 * [N], uint8, int32 or int64, non-negative and below 65536; the class count is max(Y) + 1.
 * Sizes are checked from the headers before any data is read (see {@link Limits}). uint8 and float32 samples are
 * memory-mapped ({@link MappedNpyDataset}), so memory does not grow with N; float64 is converted into memory.
 */
public final class NpyPairReader {

    private NpyPairReader() {
    }

    /** How a 4-D X is laid out: [N, C, H, W], [N, H, W, C], or decided from the shape (AUTO). */
    public enum Layout {
        NCHW, NHWC,
        /** NHWC when the last dimension is 1, 3 or 4 and the second is not; NCHW otherwise. */
        AUTO
    }

    /** Reads X and Y, a 4-D X laid out as the shape suggests. */
    public static Dataset read(Path xFile, Path yFile, String source) {
        return read(xFile, yFile, Layout.AUTO, source);
    }

    /** Reads X and Y. */
    public static Dataset read(Path xFile, Path yFile, Layout layout, String source) {
        Npy.Header xh = Npy.readHeader(xFile);
        Npy.Header yh = Npy.readHeader(yFile);
        long[] xs = xh.shape();
        if (xs.length < 2 || xs.length > 4) {
            throw new InvalidInputException(xFile + ": field shape is " + Arrays.toString(xs)
                    + "; expected [N, C, H, W], [N, H, W] or [N, D]");
        }
        if (xh.dtype() != Npy.DType.UINT8 && xh.dtype() != Npy.DType.FLOAT32 && xh.dtype() != Npy.DType.FLOAT64) {
            throw new InvalidInputException(xFile + ": field descr is " + xh.dtype().descr() + "; expected uint8, float32 or float64 samples");
        }
        for (int i = 0; i < xs.length; i++) {
            Limits.dimension(xs[i], 1, xFile + ": field shape " + Arrays.toString(xs) + ", dimension " + i);
        }
        long[] ys = yh.shape();
        if (ys.length != 1) {
            throw new InvalidInputException(yFile + ": field shape is " + Arrays.toString(ys) + "; expected [N]");
        }
        if (yh.dtype() == Npy.DType.FLOAT32 || yh.dtype() == Npy.DType.FLOAT64) {
            throw new InvalidInputException(yFile + ": field descr is " + yh.dtype().descr() + "; expected integer labels (int64, int32 or uint8)");
        }
        if (ys[0] != xs[0]) {
            throw new InvalidInputException(xFile + " and " + yFile + ": field shape[0]: " + xs[0] + " samples but "
                    + ys[0] + " labels; expected the same number");
        }
        boolean last = xs.length == 4 && switch (layout) {
            case NHWC -> true;
            case NCHW -> false;
            case AUTO -> isChannels(xs[3]) && !isChannels(xs[1]);
        };
        int[] shape = switch (xs.length) {
            case 4 -> last ? new int[]{(int) xs[3], (int) xs[1], (int) xs[2]} : new int[]{(int) xs[1], (int) xs[2], (int) xs[3]};
            case 3 -> new int[]{1, (int) xs[1], (int) xs[2]};
            default -> new int[]{1, 1, (int) xs[1]};
        };
        Limits.product(new long[]{shape[0], shape[1], shape[2]}, xFile + ": field shape");
        try {
            Npy.requireDataLength(xh, java.nio.file.Files.size(xFile), xFile);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + xFile + ": " + e.getMessage(), e);
        }
        Npy.Array y = Npy.read(yFile, 3);
        long[] raw = y.toLongs();
        int[] labels = new int[raw.length];
        long max = 0;
        for (int i = 0; i < raw.length; i++) {
            labels[i] = Limits.label(raw[i], yFile + ": label[" + i + "]");
            max = Math.max(max, raw[i]);
        }
        var names = InMemoryDataset.genericNames((int) max + 1);
        if (xh.dtype() != Npy.DType.FLOAT64) {
            return new MappedNpyDataset(xFile, xh, shape, last, labels, names, source);
        }
        if (last) {
            throw new InvalidInputException(xFile + ": field shape is " + Arrays.toString(xs)
                    + " channels-last float64; expected float32 or uint8 for [N, H, W, C] (or float64 as [N, C, H, W])");
        }
        // float64 is converted to float32 in memory, checked against the memory it needs before it is allocated.
        Npy.Array x = Npy.read(xFile, 2);
        return InMemoryDataset.ofFloats(source, shape, x.toFloats(), labels, names);
    }

    private static boolean isChannels(long d) {
        return d == 1 || d == 3 || d == 4;
    }
}
