package org.diffrep.extract;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.CudaSourceKernel;
import org.diffrep.ops.SharedLibraryKernel;
import org.diffrep.ops.UserKernelException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reductions that {@code --kernel-file} names (docs/KERNELS.md): a CUDA C++ kernel given as
 * source (.cu), compiled with NVRTC when first selected and launched on the maps' GPU; or a
 * function in a shared library (.so), called on the maps where they are through
 * {@code diffrep_ext_reduce}.
 */
abstract sealed class KernelFileReduction implements FeatureReduction
        permits KernelFileReduction.Cuda, KernelFileReduction.SharedLibrary {

    final String name;

    KernelFileReduction(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * A CUDA kernel in a .cu file. The source declares its row length (and optionally its kernel's
     * name) on a line {@code // diffrep-reduction: rows=C kernel=NAME}; rows is a product of C, H,
     * W and positive integers ({@code C}, {@code 2*C}, {@code C*H*W}); the kernel defaults to
     * {@code diffrep_reduction}. The signature and launch are {@link CudaSourceKernel}'s.
     */
    static final class Cuda extends KernelFileReduction {
        private static final Pattern DIRECTIVE = Pattern.compile("diffrep-reduction:(.*)");
        private final String file;
        private final String source;
        private final List<String> rows;
        private final String kernel;
        private CudaSourceKernel compiled;

        Cuda(String name, String file, String source, String symbol) {
            super(name);
            this.file = file;
            this.source = source;
            List<String> rowsExpr = null;
            String fn = null;
            Matcher m = DIRECTIVE.matcher(source);
            if (m.find()) {
                for (String kv : m.group(1).trim().split("\\s+")) {
                    int eq = kv.indexOf('=');
                    String key = eq < 0 ? kv : kv.substring(0, eq), value = eq < 0 ? "" : kv.substring(eq + 1);
                    switch (key) {
                        case "rows" -> rowsExpr = parseRows(value, file);
                        case "kernel" -> fn = value;
                        default -> throw InvalidInputException.field("kernelFiles", ": " + file + ": unknown key '"
                                + key + "' in the diffrep-reduction line; expected rows=EXPR and kernel=NAME");
                    }
                }
            }
            if (rowsExpr == null) {
                throw InvalidInputException.field("kernelFiles", ": " + file + ": no row length declared; add a line"
                        + " '// diffrep-reduction: rows=C' (rows: a product of C, H, W and integers)");
            }
            this.rows = rowsExpr;
            this.kernel = symbol != null ? symbol : fn != null ? fn : "diffrep_reduction";
        }

        @Override
        public long rowLength(List<Long> mapShape) {
            long c = mapShape.get(0), h = mapShape.size() > 1 ? mapShape.get(1) : 1;
            long w = mapShape.size() > 2 ? mapShape.get(2) : 1;
            long f = 1;
            for (String t : rows) {
                f = Math.multiplyExact(f, switch (t) {
                    case "C" -> c;
                    case "H" -> h;
                    case "W" -> w;
                    default -> Long.parseLong(t);
                });
            }
            return f;
        }

        /** Compiles the source for GPU 0 now: a machine without one, or a compile error, fails before any work. */
        void prepare() {
            if (compiled == null) {
                compiled = CudaSourceKernel.compile(source, file, kernel, 0);
            }
        }

        @Override
        public Tensor reduce(Tensor maps) {
            prepare();
            if (maps.is_cuda()) {
                return compiled.reduce(maps, rowLength(mapShape(maps)));
            }
            // A model on the CPU with a GPU present: the maps go to the GPU and the rows come back.
            Tensor onGpu = maps.to(new Device("cuda:0"), maps.dtype(), false, false);
            Tensor rowsOut = compiled.reduce(onGpu, rowLength(mapShape(maps)));
            return rowsOut.cpu();
        }

        static List<String> parseRows(String expr, String file) {
            List<String> out = new ArrayList<>();
            for (String t : expr.toUpperCase(Locale.ROOT).split("\\*", -1)) {
                t = t.trim();
                boolean ok = t.equals("C") || t.equals("H") || t.equals("W");
                if (!ok && t.matches("[1-9][0-9]{0,8}")) {
                    ok = true;
                }
                if (!ok) {
                    throw InvalidInputException.field("kernelFiles", ": " + file + ": rows=" + expr + " is not a"
                            + " product of C, H, W and positive integers (e.g. rows=C or rows=2*C)");
                }
                out.add(t);
            }
            return out;
        }
    }

    /** A function in a shared library, with its {@code _rows} twin (native/include/diffrep_ops.h). */
    static final class SharedLibrary extends KernelFileReduction {
        private final SharedLibraryKernel kernel;

        SharedLibrary(String name, SharedLibraryKernel kernel) {
            super(name);
            this.kernel = kernel;
        }

        @Override
        public long rowLength(List<Long> mapShape) {
            return kernel.rows(mapShape.stream().mapToLong(Long::longValue).toArray());
        }

        @Override
        public Tensor reduce(Tensor maps) {
            Tensor x = maps.dim() == 3 ? maps.unsqueeze(3) : maps;
            return kernel.reduce(x, rowLength(mapShape(maps)));
        }

        /** Loads the library and looks both functions up now, so that a missing one fails before any work. */
        void prepare(List<Long> someShape) {
            kernel.rows(someShape.stream().mapToLong(Long::longValue).toArray());
        }
    }

    static List<Long> mapShape(Tensor maps) {
        List<Long> s = new ArrayList<>();
        for (int i = 1; i < maps.dim(); i++) {
            s.add(maps.size(i));
        }
        return s;
    }

    /** A {@link UserKernelException} as the user's input error it is (exit 2), naming the kernel file. */
    static RuntimeException asInput(UserKernelException e, String what) {
        if (e.kind() == UserKernelException.Kind.FAILED) {
            return e;
        }
        return InvalidInputException.field("kernelFiles", ": " + what + ": " + e.getMessage(), e);
    }
}
