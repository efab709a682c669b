package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A data spec from the command line, {@code KIND:ARG,ARG,key=value,...}:
 * <ul>
 *   <li>{@code builtin:mnist}: 10,000 real MNIST digits shipped inside the jar ({@link BuiltinData}), for the demo,
 *       the tests and first steps; no file needed</li>
 *   <li>{@code idx:DIR} (finds {@code *images*idx3*} and {@code *labels*idx1*}; the "train" set if there are several)
 *       or {@code idx:IMAGES,LABELS}</li>
 *   <li>{@code cifar10:FILE.tar.gz}; {@code cifar100:FILE.tar.gz[,labels=fine|coarse]} (default fine)</li>
 *   <li>{@code folder:DIR[,size=32][,channels=3]} (images decoded per batch)</li>
 *   <li>{@code tar:DIR[,size=32][,channels=3]} or {@code tar:DIR/GLOB,...}: WebDataset-style {@code .tar} /
 *       {@code .tar.gz} shards of {@code KEY.png|jpg|jpeg} with {@code KEY.cls} or {@code KEY.json} labels,
 *       indexed once and decoded per batch ({@link TarShards})</li>
 *   <li>{@code npy:X.npy,Y.npy[,layout=nchw|nhwc]} (uint8 and float32 memory-mapped; 4-D layout from the shape unless given)</li>
 *   <li>{@code molrg:n=50,d=5,K=3,delta=0.2,samples=12000,seed=0}</li>
 * </ul>
 * Paths are relative to the working directory. docs/DATA.md describes each kind and the built-in data.
 *
 * @param kind    builtin, idx, cifar10, cifar100, folder, tar, npy or molrg
 * @param paths   the positional arguments
 * @param options the key=value arguments, in order
 * @param text    the spec as given
 */
public record DataSpec(String kind, List<String> paths, Map<String, String> options, String text) {

    private static final Set<String> KINDS = Set.of("builtin", "idx", "cifar10", "cifar100", "folder", "tar", "npy", "molrg");

    public DataSpec {
        paths = List.copyOf(paths);
        options = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /**
     * Parses and checks the form of a spec (not the files).
     *
     * @throws InvalidInputException for an unknown kind, a wrong number of paths or an unknown option
     */
    public static DataSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw InvalidInputException.field("data", ": expected a data spec such as builtin:mnist, idx:DIR, cifar10:FILE.tar.gz, folder:DIR, tar:DIR, "
                    + "npy:X.npy,Y.npy or molrg:n=50,d=5,K=3, got nothing");
        }
        int colon = text.indexOf(':');
        String kind = colon < 0 ? text.strip() : text.substring(0, colon).strip();
        if (colon < 0 || !KINDS.contains(kind)) {
            throw InvalidInputException.field("data", text + ": unknown kind '" + kind + "'; expected one of "
                    + "builtin:, idx:, cifar10:, cifar100:, folder:, tar:, npy:, molrg:");
        }
        String rest = text.substring(colon + 1);
        List<String> paths = new ArrayList<>();
        if (!kind.equals("molrg")) {
            for (String part : rest.split(",")) {
                if (!part.contains("=") && !part.isBlank()) {
                    paths.add(part.strip());
                }
            }
        }
        Map<String, String> opts = kind.equals("molrg") ? Map.of() : options(rest, text, 1);
        DataSpec spec = new DataSpec(kind, paths, opts, text);
        spec.checkForm();
        if (kind.equals("molrg")) {
            MolrgParams.parse(rest);
        }
        return spec;
    }

    /** Parses the spec and opens its dataset. */
    public static Dataset open(String text) {
        return parse(text).open();
    }

    private void checkForm() {
        switch (kind) {
            case "builtin" -> {
                requirePaths(1, 1, "builtin:NAME (" + String.join(", ", BuiltinData.names()) + ")");
                BuiltinData.files(paths.get(0));
            }
            case "idx" -> requirePaths(1, 2, "idx:DIR or idx:IMAGES,LABELS");
            case "cifar10" -> requirePaths(1, 1, "cifar10:FILE.tar.gz");
            case "cifar100" -> requirePaths(1, 1, "cifar100:FILE.tar.gz[,labels=fine|coarse]");
            case "folder" -> requirePaths(1, 1, "folder:DIR[,size=32][,channels=3]");
            case "tar" -> requirePaths(1, 1, "tar:DIR[,size=32][,channels=3] or tar:DIR/GLOB (e.g. tar:shards/train-*.tar)");
            case "npy" -> requirePaths(2, 2, "npy:X.npy,Y.npy[,layout=nchw|nhwc]");
            default -> {
            }
        }
        Set<String> allowed = switch (kind) {
            case "cifar100" -> Set.of("labels");
            case "folder", "tar" -> Set.of("size", "channels");
            case "npy" -> Set.of("layout");
            default -> Set.of();
        };
        for (String key : options.keySet()) {
            if (!allowed.contains(key)) {
                throw InvalidInputException.field("data", text + ": unknown option '" + key + "' for " + kind
                        + (allowed.isEmpty() ? " (it takes none)" : "; expected one of " + allowed));
            }
        }
    }

    private void requirePaths(int min, int max, String form) {
        if (paths.size() < min || paths.size() > max) {
            throw InvalidInputException.field("data", text + ": expected " + form + ", got " + paths.size() + " path(s)");
        }
    }

    /**
     * Reads the data. Files are read (or, for folder and tar, indexed with their headers and labels checked) here,
     * so format errors surface before any other work; folder and tar decode their images per batch.
     *
     * @throws InvalidInputException naming the file, field and expectation for missing or malformed input
     */
    public Dataset open() {
        try {
            return read();
        } catch (OutOfMemoryError e) {
            // The readers check sizes against the heap before they allocate; this is the last guard.
            throw InvalidInputException.field("data", text + ": the dataset does not fit in the Java heap ("
                    + Limits.human(Runtime.getRuntime().maxMemory()) + "); raise it (JAVA_OPTS=-Xmx16g for tools/diffrep)"
                    + " or use smaller data", e);
        }
    }

    private Dataset read() {
        String rest = text.substring(text.indexOf(':') + 1);
        return switch (kind) {
            case "builtin" -> BuiltinData.open(paths.get(0), text);
            case "idx" -> {
                Path[] pair = paths.size() == 2 ? new Path[]{Path.of(paths.get(0)), Path.of(paths.get(1))}
                        : IdxReader.findPair(Path.of(paths.get(0)));
                yield IdxReader.read(pair[0], pair[1], text);
            }
            case "cifar10" -> CifarReader.readCifar10(Path.of(paths.get(0)), text);
            case "cifar100" -> {
                String l = options.getOrDefault("labels", "fine");
                if (!l.equals("fine") && !l.equals("coarse")) {
                    throw InvalidInputException.field("data", text + ": option labels=" + l + "; expected fine or coarse");
                }
                yield CifarReader.readCifar100(Path.of(paths.get(0)),
                        l.equals("fine") ? CifarReader.Labels.FINE : CifarReader.Labels.COARSE, text);
            }
            case "folder" -> FolderReader.read(Path.of(paths.get(0)),
                    integer(options.getOrDefault("size", "32"), text + " option size", 1, FolderReader.MAX_SIZE),
                    integer(options.getOrDefault("channels", "3"), text + " option channels", 1, 3), text);
            case "tar" -> TarShards.open(paths.get(0),
                    integer(options.getOrDefault("size", "32"), text + " option size", 1, FolderReader.MAX_SIZE),
                    integer(options.getOrDefault("channels", "3"), text + " option channels", 1, 3), text);
            case "npy" -> NpyPairReader.read(Path.of(paths.get(0)), Path.of(paths.get(1)), layout(), text);
            case "molrg" -> MolrgData.generate(MolrgParams.parse(rest)).asDataset();
            default -> throw new IllegalStateException(kind);
        };
    }

    private NpyPairReader.Layout layout() {
        String l = options.getOrDefault("layout", "auto");
        return switch (l) {
            case "nchw" -> NpyPairReader.Layout.NCHW;
            case "nhwc" -> NpyPairReader.Layout.NHWC;
            case "auto" -> NpyPairReader.Layout.AUTO;
            default -> throw InvalidInputException.field("data", text + ": option layout=" + l + "; expected nchw, nhwc or auto");
        };
    }

    /** The key=value parts of a comma-separated list; parts without '=' are skipped when {@code skipPlain} is 1. */
    static Map<String, String> options(String list, String spec, int skipPlain) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : list.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq < 0) {
                if (skipPlain == 1) {
                    continue;
                }
                throw new InvalidInputException(spec + ": expected key=value, got '" + part.strip() + "'");
            }
            String key = part.substring(0, eq).strip();
            if (out.put(key, part.substring(eq + 1).strip()) != null) {
                throw new InvalidInputException(spec + ": option '" + key + "' given twice");
            }
        }
        return out;
    }

    /**
     * An integer from spec text in [min, max].
     *
     * @param what names the spec and key, e.g. {@code "molrg field samples"}
     * @throws InvalidInputException "expected an integer in min..max, got 'x'"
     */
    static int integer(String text, String what, int min, int max) {
        long v;
        try {
            v = Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new InvalidInputException(what + ": expected an integer in " + min + ".." + max + ", got '" + text.strip() + "'");
        }
        if (v < min || v > max) {
            throw new InvalidInputException(what + ": expected an integer in " + min + ".." + max + ", got " + v);
        }
        return (int) v;
    }

    /** A number from spec text; integer-valued when {@code integer} is true. */
    static double number(String text, String what, boolean integer) {
        try {
            return integer ? Long.parseLong(text.strip()) : Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw new InvalidInputException(what + ": expected " + (integer ? "an integer" : "a number") + ", got '" + text + "'");
        }
    }
}
