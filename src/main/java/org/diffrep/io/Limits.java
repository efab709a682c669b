package org.diffrep.io;

import org.diffrep.InvalidInputException;

import java.util.Arrays;

/**
 * Size checks that every reader makes before it allocates: products of dimensions computed without
 * overflow, and the limits of one in-memory array and of the Java heap. A reader that fails a check
 * throws {@link InvalidInputException} naming the file (or spec), the field and the limit, so a header
 * that declares absurd sizes never reaches an allocation.
 */
public final class Limits {

    /** The most bytes (or elements) one Java array holds: 2^31 - 9, a little under 2 GiB. */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    /** Labels are class indices in [0, MAX_CLASSES): a dense set of small non-negative integers. */
    public static final int MAX_CLASSES = 1 << 16;

    private Limits() {
    }

    /**
     * The product of {@code dims}, checked: every dimension non-negative and the product no larger than
     * {@code Long.MAX_VALUE}.
     *
     * @param where names the file and field in the message, e.g. {@code "x.npy: field shape"}
     * @throws InvalidInputException when a dimension is negative or the product overflows
     */
    public static long product(long[] dims, String where) {
        long p = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new InvalidInputException(where + " is " + Arrays.toString(dims) + "; expected non-negative sizes");
            }
        }
        for (long d : dims) {
            try {
                p = Math.multiplyExact(p, d);
            } catch (ArithmeticException e) {
                if (Arrays.stream(dims).anyMatch(x -> x == 0)) {
                    return 0;
                }
                throw new InvalidInputException(where + " is " + Arrays.toString(dims)
                        + ": its product overflows a 64-bit count; expected sizes a real file can have");
            }
        }
        return p;
    }

    /** {@code elements * bytesPerElement}, checked for overflow like {@link #product}. */
    public static long bytes(long elements, int bytesPerElement, String where) {
        try {
            return Math.multiplyExact(elements, (long) bytesPerElement);
        } catch (ArithmeticException e) {
            throw new InvalidInputException(where + ": " + elements + " elements of " + bytesPerElement
                    + " bytes overflow a 64-bit size; expected sizes a real file can have");
        }
    }

    /**
     * Checks that an array of {@code bytes} bytes fits in one Java array and, with {@code copies} such arrays
     * alive at once, in the Java heap; returns it as an int.
     *
     * @param where names the file or spec
     * @param what  what the bytes are, e.g. {@code "dims [60000, 28, 28]"}
     * @throws InvalidInputException naming the limit and what to do
     */
    public static int inMemory(long bytes, int copies, String where, String what) {
        if (bytes < 0 || bytes > MAX_ARRAY) {
            throw new InvalidInputException(where + ": " + what + " need " + bytes + " bytes (" + human(bytes)
                    + "); one in-memory array holds at most " + MAX_ARRAY + " bytes (2 GiB): split the data into "
                    + "smaller files");
        }
        long heap = Runtime.getRuntime().maxMemory();
        double need = (double) bytes * Math.max(1, copies);
        if (heap != Long.MAX_VALUE && need > heap) {
            throw new InvalidInputException(where + ": " + what + " need about " + human((long) need)
                    + " of memory while reading, more than the Java heap's " + human(heap)
                    + "; raise the heap (JAVA_OPTS=-Xmx16g for tools/diffrep) or use smaller data");
        }
        return (int) bytes;
    }

    /**
     * An integer dimension from a file header as an int in [min, Integer.MAX_VALUE].
     *
     * @throws InvalidInputException naming {@code where}
     */
    public static int dimension(long value, long min, String where) {
        if (value < min || value > Integer.MAX_VALUE) {
            throw new InvalidInputException(where + " is " + value + "; expected " + min + ".." + Integer.MAX_VALUE);
        }
        return (int) value;
    }

    /** Checks a class label: 0 <= label < {@link #MAX_CLASSES}. */
    public static int label(long value, String where) {
        if (value < 0 || value >= MAX_CLASSES) {
            throw new InvalidInputException(where + " = " + value + "; expected a class index in 0.."
                    + (MAX_CLASSES - 1));
        }
        return (int) value;
    }

    /** A byte count for people: bytes, MiB or GiB. */
    public static String human(long bytes) {
        if (bytes < 1L << 20) {
            return bytes + " bytes";
        }
        if (bytes < 1L << 30) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
