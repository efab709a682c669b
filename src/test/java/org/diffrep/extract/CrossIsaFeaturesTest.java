package org.diffrep.extract;

import org.diffrep.model.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Features across CPUs: the same extraction in a child JVM whose GEMM, ATen and oneDNN kernels are
 * held to AVX2 (what an AMD EPYC without AVX-512 runs) against this JVM's own choice (AVX-512 where
 * the CPU has it). The bytes may differ in the last bits; DESIGN.md states the tolerance tested
 * here: every feature within {@link #TOLERANCE} of the largest feature of its layer and sigma. On an
 * AVX2-only machine both sides take the same path and agree exactly.
 */
class CrossIsaFeaturesTest {

    /** Relative to the largest |feature| of a layer at one sigma. */
    static final double TOLERANCE = 1e-5;

    /** Environment that holds OpenBLAS, ATen's vectorised kernels and oneDNN to AVX2. */
    static final Map<String, String> AVX2 = Map.of("OPENBLAS_CORETYPE", "Haswell", "ATEN_CPU_CAPABILITY", "avx2",
            "ONEDNN_MAX_CPU_ISA", "AVX2");

    static ExtractConfig config(Path out) {
        return ExtractFixture.config(out).layers(List.of("enc.0", "mid", "dec.0", "out")).input(InputMode.NOISY)
                .limit(40).forwardRows(16).batch(8).threads(2).build();
    }

    /** Child JVM entry: extracts {@link #config} with the fixture UNet into args[0]. */
    public static void main(String[] args) {
        NetworkDenoiser unet = ExtractFixture.unet();
        new Extractor(config(Path.of(args[0]))).log(null).run(unet, "unet-99", ExtractFixture.mnist());
    }

    @Test
    void avx2FeaturesAgreeWithThisCpusWithinTolerance(@TempDir Path tmp) throws Exception {
        Path here = tmp.resolve("here"), avx2 = tmp.resolve("avx2");
        try {
            main(new String[]{here.toString()});
        } finally {
            org.diffrep.ops.Threads.set(2);
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-cp", System.getProperty("java.class.path"), CrossIsaFeaturesTest.class.getName(),
                avx2.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().putAll(AVX2);
        Process p = pb.start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child extraction finished");
        assertEquals(0, p.exitValue(), () -> "child extraction failed: " + read(tmp.resolve("child.log")));

        FeatureStore a = FeatureStore.open(here), b = FeatureStore.open(avx2);
        double worst = 0;
        for (String layer : a.layers()) {
            for (int j = 0; j < a.sigmas().length; j++) {
                float[][] fa = a.features(layer, j), fb = b.features(layer, j);
                double scale = 1e-30, diff = 0;
                for (int i = 0; i < fa.length; i++) {
                    for (int c = 0; c < fa[i].length; c++) {
                        scale = Math.max(scale, Math.abs(fa[i][c]));
                        diff = Math.max(diff, Math.abs(fa[i][c] - fb[i][c]));
                    }
                }
                worst = Math.max(worst, diff / scale);
                assertTrue(diff / scale <= TOLERANCE, layer + " sigma " + j + ": relative difference " + diff / scale);
            }
        }
        System.out.printf("cross-ISA features: largest relative difference %.2e (tolerance %.0e)%n", worst, TOLERANCE);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
