package org.diffrep.ops;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NVRTC compiles the example CUDA reduction (examples/kernels/channel_max.cu) to PTX, with no GPU
 * needed, and a syntax error comes back as NVRTC's compile log. Runs in a child JVM
 * ({@link NvrtcCompileMain}): the CUDA presets' glue needs the driver's libcuda.so.1, and on a
 * machine without a driver the child loads an empty stub of it (compiling never calls the driver),
 * which must not leak into the other tests. Skips, saying why, when no libnvrtc.so.13 is found:
 * set DIFFREP_NVRTC, or install one (CUDA toolkit, or pip nvidia-cuda-nvrtc).
 */
class NvrtcCompileTest {

    @Test
    void compilesTheExampleKernelToPtxAndReportsACompileErrorWithItsLog(@TempDir Path tmp) throws Exception {
        Path nvrtcLib = find("libnvrtc.so.13");
        Assumptions.assumeTrue(nvrtcLib != null, "NVRTC not found: no libnvrtc.so.13 in DIFFREP_NVRTC, CUDA_HOME/lib64,"
                + " /usr/local/cuda/lib64 or a pip nvidia-cuda-nvrtc wheel; nothing to compile with");
        List<String> preload = new ArrayList<>();
        if (!systemHas("libcuda.so.1")) {
            preload.add(driverStub(tmp).toString());
        }
        if (!systemHas("libcudart.so.13")) {
            Path cudart = find("libcudart.so.13");
            Assumptions.assumeTrue(cudart != null, "libcudart.so.13 (which the CUDA presets' glue links) not found");
            preload.add(cudart.toString());
        }
        Path good = Path.of("examples/kernels/channel_max.cu").toAbsolutePath();
        Path bad = tmp.resolve("broken.cu");
        Files.writeString(bad, Files.readString(good).replace("if (row >= b || col >= f) return;",
                "if (row >= b || col >= f) return"));

        String out = runChild(nvrtcLib, String.join(":", preload), good.toString(), bad.toString());
        Assumptions.assumeFalse(out.startsWith("UNAVAILABLE"), out);
        assertTrue(out.contains("PTX " + good + " "), out);
        assertTrue(out.contains(".entry channel_max("), "the PTX holds the kernel: " + out);
        assertTrue(out.contains(".target sm_80"), out);
        String err = out.substring(out.indexOf("COMPILE " + bad));
        assertTrue(err.contains("does not compile") && err.contains("broken.cu") && err.contains("error"), err);
        assertTrue(java.util.regex.Pattern.compile("broken\\.cu\\(\\d+\\): error: ").matcher(err).find(),
                "NVRTC's log names the file, line and error: " + err);
    }

    private static String runChild(Path nvrtcLib, String preload, String... files) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Ddiffrep.test.preload=" + preload,
                NvrtcCompileMain.class.getName()));
        cmd.addAll(List.of(files));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DIFFREP_NVRTC", nvrtcLib.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child timed out: " + out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** An empty shared library named libcuda.so.1: the presets' glue loads, and no driver call is made. */
    private static Path driverStub(Path dir) throws IOException, InterruptedException {
        Path src = dir.resolve("stub.c"), lib = dir.resolve("libcuda.so.1");
        Files.writeString(src, "int diffrep_driver_stub;\n");
        Process p = new ProcessBuilder("gcc", "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", src.toString(), "-o",
                lib.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "gcc failed: " + out);
        return lib;
    }

    private static boolean systemHas(String soname) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/sbin/ldconfig", "-p").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return out.contains(soname + " ");
    }

    /** A library in DIFFREP_NVRTC's folder, CUDA_HOME/lib64, /usr/local/cuda/lib64 or pip's nvidia/cu13/lib. */
    static Path find(String file) throws IOException, InterruptedException {
        List<Path> dirs = new ArrayList<>();
        String env = System.getenv("DIFFREP_NVRTC");
        if (env != null && !env.isEmpty()) {
            dirs.add(Path.of(env).toAbsolutePath().getParent());
        }
        String home = System.getenv("CUDA_HOME");
        if (home != null) {
            dirs.add(Path.of(home, "lib64"));
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        try {
            Process p = new ProcessBuilder("python3", "-c",
                    "import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], 'cu13', 'lib'))")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                dirs.add(Path.of(out));
            }
        } catch (IOException e) {
            // no python3: one place fewer to look
        }
        for (Path d : dirs) {
            if (d != null && Files.isRegularFile(d.resolve(file))) {
                return d.resolve(file);
            }
        }
        return null;
    }
}
