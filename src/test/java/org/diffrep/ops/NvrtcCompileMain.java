package org.diffrep.ops;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child JVM of {@link NvrtcCompileTest}: loads the libraries named in {@code diffrep.test.preload}
 * (colon-separated; a driver stub and the CUDA runtime on a machine without a driver), then
 * compiles each source file given with NVRTC for {@link CudaSourceKernel#DEFAULT_ARCH} and prints
 * "PTX file chars" and the PTX, or "COMPILE file" and the message with NVRTC's log.
 */
public final class NvrtcCompileMain {

    private NvrtcCompileMain() {
    }

    public static void main(String[] args) throws Exception {
        String preload = System.getProperty("diffrep.test.preload", "");
        for (String lib : preload.split(":")) {
            if (!lib.isEmpty()) {
                System.load(lib);
            }
        }
        String why = CudaSourceKernel.nvrtcUnavailable();
        if (why != null) {
            System.out.println("UNAVAILABLE " + why);
            return;
        }
        for (String file : args) {
            try {
                String ptx = CudaSourceKernel.compilePtx(Files.readString(Path.of(file)), file,
                        CudaSourceKernel.DEFAULT_ARCH);
                System.out.println("PTX " + file + " " + ptx.length());
                System.out.println(ptx);
            } catch (UserKernelException e) {
                System.out.println(e.kind() + " " + file);
                System.out.println(e.getMessage());
            }
        }
    }
}
