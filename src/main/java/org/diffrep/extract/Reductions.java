package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Hashes;
import org.diffrep.ops.SharedLibraryKernel;
import org.diffrep.ops.UserKernelException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registry of {@link FeatureReduction}s by name: the built-ins ({@link BuiltinReduction}),
 * the Java reductions on the classpath ({@link java.util.ServiceLoader}), and the kernels that
 * {@link ExtractConfig#kernelFiles} names. A kernel file is given as {@code [NAME=]FILE[#SYMBOL]}:
 * NAME defaults to the file name without its extension (and a {@code lib} prefix); SYMBOL is the
 * function (shared library; default {@code diffrep_reduction}) or kernel (CUDA; default from the
 * source's {@code diffrep-reduction:} line, else {@code diffrep_reduction}).
 */
public final class Reductions {

    /** A reduction chosen for a tap: the reduction, its manifest record, and its pooling for a built-in (else null). */
    public record Selected(FeatureReduction reduction, ReductionRecord record, Pooling builtin) {
    }

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]*");
    private static final Pattern SPEC = Pattern.compile("(?:([^=#]+)=)?([^#]+)(?:#([A-Za-z_][A-Za-z0-9_]*))?");

    private final Map<String, Selected> all = new LinkedHashMap<>();

    private Reductions() {
    }

    /**
     * The built-ins, the Java reductions on the classpath and the given kernel files (hashed now).
     *
     * @throws InvalidInputException for a bad spec, a missing file, or two reductions of one name
     */
    public static Reductions load(List<String> kernelFiles) {
        Reductions r = new Reductions();
        for (Pooling p : Pooling.values()) {
            r.all.put(p.id(), new Selected(new BuiltinReduction(p), new ReductionRecord(p.id(), "builtin", null, null), p));
        }
        for (Map.Entry<String, Selected> e : JavaReductions.load().entrySet()) {
            r.add(e.getKey(), e.getValue());
        }
        for (String spec : kernelFiles) {
            r.addKernelFile(spec);
        }
        return r;
    }

    /** Every name that {@code --reduce} may select, in registration order. */
    public List<String> names() {
        return List.copyOf(all.keySet());
    }

    /** The reduction named {@code name} for tap {@code layer}; an unknown name lists the known ones. */
    public Selected select(String name, String layer) {
        GridMeanReduction grid;
        try {
            grid = GridMeanReduction.parse(name);
        } catch (IllegalArgumentException e) {
            throw InvalidInputException.field("reduce", ": " + e.getMessage());
        }
        if (grid != null) {
            return new Selected(grid, new ReductionRecord(grid.name(), "builtin", null, null), null);
        }
        Selected s = all.get(name);
        if (s == null) {
            throw InvalidInputException.field("reduce", ": unknown reduction '" + name + "' for layer " + layer
                    + "; known: " + String.join(", ", all.keySet()) + ", mean:GHxGW (a pooling grid)"
                    + " (Java reductions come from META-INF/services, kernels from --kernel-file; docs/KERNELS.md)");
        }
        return s;
    }

    private void add(String name, Selected s) {
        Selected prev = all.putIfAbsent(name, s);
        if (prev != null) {
            throw InvalidInputException.field("kernelFiles", ": the reduction name '" + name + "' is taken by "
                    + prev.record() + "; give the kernel another name with NAME=FILE");
        }
    }

    private void addKernelFile(String spec) {
        Matcher m = SPEC.matcher(spec == null ? "" : spec.trim());
        if (!m.matches()) {
            throw InvalidInputException.field("kernelFiles", ": expected [NAME=]FILE[#SYMBOL], got '" + spec + "'");
        }
        Path file = Path.of(m.group(2).trim());
        String fileName = file.getFileName().toString();
        String name = m.group(1) != null ? m.group(1).trim() : defaultName(fileName);
        checkName(name, spec);
        String symbol = m.group(3);
        if (!Files.isRegularFile(file)) {
            throw InvalidInputException.field("kernelFiles", ": " + file + ": no such file");
        }
        String hash;
        try {
            hash = Hashes.sha256Id(file);
        } catch (IOException e) {
            throw InvalidInputException.field("kernelFiles", ": " + file + ": cannot read: " + e.getMessage());
        }
        if (fileName.endsWith(".cu")) {
            String source;
            try {
                source = Files.readString(file);
            } catch (IOException e) {
                throw InvalidInputException.field("kernelFiles", ": " + file + ": cannot read: " + e.getMessage());
            }
            KernelFileReduction.Cuda cuda = new KernelFileReduction.Cuda(name, file.toString(), source, symbol);
            add(name, new Selected(cuda, new ReductionRecord(name, "cuda", file.toString(), hash), null));
        } else if (fileName.endsWith(".so") || fileName.contains(".so.")) {
            String sym = symbol != null ? symbol : "diffrep_reduction";
            SharedLibraryKernel kernel;
            try {
                kernel = new SharedLibraryKernel(file, sym);
            } catch (UserKernelException e) {
                throw KernelFileReduction.asInput(e, spec);
            }
            add(name, new Selected(new KernelFileReduction.SharedLibrary(name, kernel),
                    new ReductionRecord(name, "shared-library", file + "#" + sym, hash), null));
        } else {
            throw InvalidInputException.field("kernelFiles", ": " + file + ": expected a CUDA source (.cu) or a"
                    + " shared library (.so)");
        }
    }

    private static String defaultName(String fileName) {
        String stem = fileName.contains(".so") ? fileName.substring(0, fileName.indexOf(".so"))
                : fileName.replaceFirst("\\.[^.]*$", "");
        return stem.startsWith("lib") && stem.length() > 3 ? stem.substring(3) : stem;
    }

    static void checkName(String name, String where) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw InvalidInputException.field("reduce", ": the reduction name '" + name + "' of " + where
                    + " is not letters, digits and -_.+");
        }
    }
}
