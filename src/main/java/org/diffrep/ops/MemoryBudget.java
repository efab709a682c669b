package org.diffrep.ops;

import java.lang.management.ManagementFactory;
import java.util.Locale;

import org.diffrep.InvalidInputException;

/**
 * How much memory a run may ask for, checked before anything is allocated, so that an absurd size
 * ({@code batch = 100000000}) is refused with a message instead of growing until the process is
 * killed. Estimates are doubles: a product of sizes cannot overflow, it only becomes large.
 *
 * <p>Each check names what asked for the memory: {@code what} is plain text (a file's metadata),
 * or, when {@code fields} are given, a template naming those configuration fields as
 * {@code {name}} ({@code "{batch} 64"}), so that the command line can print its own option
 * names ({@link InvalidInputException#fields}).
 *
 * <p>Two limits: the native limit (LibTorch tensors) is this machine's memory as the JVM sees it
 * (cgroup-aware), or {@code DIFFREP_MEMORY_LIMIT} (bytes, or with a k/m/g/t suffix) when set; the
 * heap limit (Java arrays) is the JVM's maximum heap ({@code -Xmx}, JAVA_OPTS of tools/diffrep).
 */
public final class MemoryBudget {

    /** Environment variable that overrides the native limit. */
    public static final String ENV = "DIFFREP_MEMORY_LIMIT";

    private MemoryBudget() {
    }

    /** The native limit in bytes. */
    public static long nativeLimit() {
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return parse(env.trim());
        }
        try {
            var os = ManagementFactory.getOperatingSystemMXBean();
            if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
                long total = sun.getTotalMemorySize();
                if (total > 0) {
                    return total;
                }
            }
        } catch (RuntimeException | LinkageError e) {
            // no way to ask: fall through to a generous fixed limit
        }
        return 1L << 40;
    }

    /** The heap limit in bytes. */
    public static long heapLimit() {
        return Runtime.getRuntime().maxMemory();
    }

    /**
     * Refuses a run whose estimated native memory {@code bytes} exceeds the native limit.
     *
     * @param what   names the setting and value, e.g. {@code "{batch} 100000000"} with {@code fields} {@code batch}
     * @param why    what the memory is for, e.g. {@code "training on 100000000 images of [1, 28, 28]"}
     * @param fields the configuration fields {@code what} names as {@code {name}}, the one at fault first
     */
    public static void requireNative(String what, double bytes, String why, String... fields) {
        long limit = nativeLimit();
        if (!(bytes <= limit)) {
            String source = System.getenv(ENV) != null && !System.getenv(ENV).isBlank()
                    ? ENV + "=" + System.getenv(ENV) : "this machine's memory; " + ENV + " overrides it";
            throw refused(what + ": " + why + " needs about " + human(bytes) + "; the limit is "
                    + human(limit) + " (" + source + ")", fields);
        }
    }

    /** Refuses a run whose Java arrays ({@code bytes} in all) exceed the heap limit. */
    public static void requireHeap(String what, double bytes, String why, String... fields) {
        long limit = heapLimit();
        if (!(bytes <= limit)) {
            throw refused(what + ": " + why + " needs about " + human(bytes)
                    + " of Java heap; the limit is " + human(limit) + " (-Xmx, JAVA_OPTS)", fields);
        }
    }

    /** Refuses a Java array of {@code elements} elements (Java arrays hold at most 2^31 - 9). */
    public static void requireArray(String what, double elements, String why, String... fields) {
        if (!(elements <= Integer.MAX_VALUE - 8)) {
            throw refused(what + ": " + why + " would hold " + String.format(Locale.ROOT, "%.3g",
                    elements) + " values in one array; at most " + (Integer.MAX_VALUE - 8) + " fit", fields);
        }
    }

    private static InvalidInputException refused(String message, String... fields) {
        return fields.length == 0 ? new InvalidInputException(message) : InvalidInputException.fields(message, fields);
    }

    /** Bytes in a human unit: 1.5 GiB. */
    public static String human(double bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (u == units.length - 1 && v >= 1024) {
            return String.format(Locale.ROOT, "%.3g bytes", bytes);
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f bytes", v) : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static long parse(String s) {
        String t = s.toLowerCase(Locale.ROOT);
        long mult = 1;
        char last = t.charAt(t.length() - 1);
        int shift = switch (last) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        if (shift > 0) {
            t = t.substring(0, t.length() - 1);
            mult = 1L << shift;
        }
        try {
            double v = Double.parseDouble(t) * mult;
            if (!(v >= 1) || v > Long.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (long) v;
        } catch (NumberFormatException e) {
            throw new InvalidInputException(ENV + "='" + s + "': expected a size in bytes such as 16g or 512m");
        }
    }
}
