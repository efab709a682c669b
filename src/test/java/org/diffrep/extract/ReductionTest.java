package org.diffrep.extract;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Hashes;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * User reductions (issue 21, docs/KERNELS.md): a Java reduction found by ServiceLoader and a C++
 * shared-library reduction built here with g++ give the rows that the same computation in LibTorch
 * gives on the maps a {@code pool none} store holds; the manifest records them with their code's
 * hash, a resumed run refuses a changed kernel, and missing kernels fail before any work.
 */
class ReductionTest {

    static NetworkDenoiser model;
    @TempDir
    static Path shared;
    /** The whole maps of {@code mid} ([16, 7, 7] here), as {@code pool none} stores them: the reference input. */
    static Path mapsStore;
    static Path rmsLibrary;

    @BeforeAll
    static void setUp() throws Exception {
        org.diffrep.ops.Threads.set(2);
        model = ExtractFixture.unet();
        mapsStore = shared.resolve("maps");
        ExtractFixture.run(config(mapsStore).pool(Pooling.NONE).build(), model);
        rmsLibrary = compile(shared.resolve("lib1"), "");
    }

    static ExtractConfig.Builder config(Path out) {
        return ExtractFixture.config(out).layers(List.of("mid")).sigmas(0.1f, 1.0f).limit(40).batch(16)
                .forwardRows(16).shardSize(32);
    }

    /** Builds examples/kernels/channel_rms.cpp, with {@code extra} source appended, with g++ into dir. */
    static Path compile(Path dir, String extra) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path src = dir.resolve("channel_rms.cpp");
        Files.writeString(src, Files.readString(Path.of("examples/kernels/channel_rms.cpp")) + extra);
        Path lib = dir.resolve("libchannel_rms.so");
        Process p = new ProcessBuilder("g++", "-O2", "-std=c++17", "-shared", "-fPIC", src.toString(), "-o",
                lib.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "g++ failed: " + out);
        return lib;
    }

    /** The reference: {@code f} applied in LibTorch to the stored maps [N, 16, 7, 7] of sigma j. */
    static float[][] reference(int j, UnaryOperator<Tensor> f) {
        FeatureStore maps = FeatureStore.open(mapsStore);
        long[] shape = maps.mapShape("mid");
        try (PointerScope scope = new PointerScope()) {
            Tensor m = maps.featuresTensor("mid", j).reshape(maps.count(), shape[0], shape[1], shape[2]);
            Tensor rows = f.apply(m).contiguous();
            float[] flat = Tensors.toFloats(rows);
            int n = (int) rows.size(0), c = (int) rows.size(1);
            float[][] out = new float[n][c];
            for (int i = 0; i < n; i++) {
                System.arraycopy(flat, i * c, out[i], 0, c);
            }
            return out;
        }
    }

    static void assertRowsClose(float[][] expected, float[][] actual, float tol, String what) {
        assertEquals(expected.length, actual.length, what + ": rows");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i].length, actual[i].length, what + ": row length");
            for (int c = 0; c < expected[i].length; c++) {
                float e = expected[i][c], a = actual[i][c];
                assertTrue(Math.abs(e - a) <= tol * Math.max(1f, Math.abs(e)),
                        what + ": row " + i + " col " + c + ": expected " + e + ", got " + a);
            }
        }
    }

    @Test
    void javaReductionFromServiceLoaderGivesTheLibTorchRowsAndIsRecorded(@TempDir Path tmp) {
        Path out = tmp.resolve("store");
        ExtractFixture.run(config(out).reduce(Map.of("mid", SquareMeanReduction.NAME)).build(), model);
        FeatureStore store = FeatureStore.open(out);
        for (int j = 0; j < 2; j++) {
            float[][] expected = reference(j, m -> m.mul(m).reshape(m.size(0), m.size(1), -1)
                    .mean(new long[]{2}, false, null));
            // the same ops on the same maps: the same bytes
            assertRowsClose(expected, store.features("mid", j), 0f, "sigma " + j);
        }
        ReductionRecord r = store.manifest().settings().reductions().get("mid");
        assertEquals(new ReductionRecord(SquareMeanReduction.NAME, "java", SquareMeanReduction.class.getName(),
                r.hash()), r);
        assertTrue(r.hash().startsWith(Hashes.SHA256_PREFIX), r.hash());
        assertEquals(16, store.manifest().layers().get("mid").rowLength());
    }

    @Test
    void sharedLibraryReductionGivesTheLibTorchRowsAndIsRecorded(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("store");
        ExtractFixture.run(config(out).kernelFiles(List.of("rms=" + rmsLibrary)).reduce(Map.of("mid", "rms")).topk(3)
                .build(), model);
        FeatureStore store = FeatureStore.open(out);
        for (int j = 0; j < 2; j++) {
            float[][] expected = reference(j, m -> m.mul(m).reshape(m.size(0), m.size(1), -1)
                    .mean(new long[]{2}, false, null).sqrt());
            float[][] rows = store.features("mid", j);
            // the library sums in double, LibTorch in float: a few ulps apart
            assertRowsClose(expected, rows, 1e-5f, "sigma " + j);
            // top-k is taken over the reduction's rows
            long[][] idx = store.topkIndices("mid", j);
            for (int i = 0; i < rows.length; i++) {
                for (int c = 0; c < rows[i].length; c++) {
                    assertTrue(rows[i][c] <= rows[i][(int) idx[i][2]] || c == idx[i][0] || c == idx[i][1]);
                }
            }
        }
        ReductionRecord r = store.manifest().settings().reductions().get("mid");
        assertEquals("shared-library", r.kind());
        assertEquals(rmsLibrary + "#diffrep_reduction", r.source());
        assertEquals(Hashes.sha256Id(rmsLibrary), r.hash());
    }

    @Test
    void resumeRefusesAChangedKernel(@TempDir Path tmp) throws Exception {
        Path lib = compile(tmp.resolve("lib"), "");
        Path out = tmp.resolve("store");
        ExtractConfig.Builder cfg = config(out).kernelFiles(List.of("rms=" + lib)).reduce(Map.of("mid", "rms"));
        ExtractFixture.run(cfg.build(), model);
        // the same kernel: resume finds the store complete
        assertEquals(0, ExtractFixture.run(cfg.resume(true).build(), model).computed());
        compile(tmp.resolve("lib"), "\nextern \"C\" int channel_rms_revision(void) { return 2; }\n");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ExtractFixture.run(cfg.resume(true).build(), model));
        assertTrue(e.getMessage().contains("reduction rms of layer mid changed its code"), e.getMessage());
        assertTrue(e.getMessage().startsWith("resume"), e.getMessage());
    }

    @Test
    void builtinNamedWithReduceWritesTheSameFeatureBytesAsPool(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("pool"), b = tmp.resolve("reduce");
        ExtractFixture.run(config(a).pool(Pooling.MEAN_MAX).topk(4).build(), model);
        ExtractFixture.run(config(b).reduce(Map.of("mid", "mean+max")).topk(4).build(), model);
        assertEquals(List.of(), ExtractFixture.differingFiles(a, b, "features"));
        assertEquals(List.of(), ExtractFixture.differingFiles(a, b, "topk"));
        assertNull(FeatureStore.open(a).manifest().settings().reductions(), "no --reduce: the manifest is as before");
        assertEquals(new ReductionRecord("mean+max", "builtin", null, null),
                FeatureStore.open(b).manifest().settings().reductions().get("mid"));
        // pool is mean in b's settings; the tap's own reduction lets its maxima be read
        assertEquals("mean", FeatureStore.open(b).manifest().settings().pool());
        assertArrayEquals(FeatureStore.open(a).featuresMax("mid", 1)[7], FeatureStore.open(b).featuresMax("mid", 1)[7]);
    }

    @Test
    void missingKernelsAndUnknownNamesFailBeforeAnyWork(@TempDir Path tmp) {
        Path out = tmp.resolve("store");
        String m1 = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(config(out)
                .reduce(Map.of("mid", "nope")).build(), model)).getMessage();
        assertTrue(m1.contains("unknown reduction 'nope'") && m1.contains(SquareMeanReduction.NAME)
                && m1.contains("mean+max"), m1);
        String m2 = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(config(out)
                .kernelFiles(List.of(tmp.resolve("libgone.so").toString())).reduce(Map.of("mid", "gone")).build(),
                model)).getMessage();
        assertTrue(m2.contains("libgone.so") && m2.contains("no such file"), m2);
        String m3 = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(config(out)
                .kernelFiles(List.of("rms=" + rmsLibrary + "#no_such_reduction")).reduce(Map.of("mid", "rms")).build(),
                model)).getMessage();
        assertTrue(m3.contains("no_such_reduction_rows") && m3.contains(rmsLibrary.toString()), m3);
        assertTrue(Files.notExists(out.resolve(StoreLayout.MANIFEST)) || !FeatureStore.open(out).manifest().complete());
    }

    @Test
    void aCudaKernelWithoutAGpuNamesTheFallbacks(@TempDir Path tmp) {
        Path cu = Path.of("examples/kernels/channel_max.cu").toAbsolutePath();
        String m = assertThrows(InvalidInputException.class, () -> ExtractFixture.run(config(tmp.resolve("s"))
                .kernelFiles(List.of(cu.toString())).reduce(Map.of("mid", "channel_max")).build(), model)).getMessage();
        org.junit.jupiter.api.Assumptions.assumeFalse(m.contains("cuda") && !m.contains("needs a GPU"),
                "a GPU is present: " + m);
        assertTrue(m.contains("needs a GPU") && m.contains("shared-library") && m.contains("Java reduction"), m);
    }

    @Test
    void aReductionReturningTheWrongShapeIsNamedAndNothingIsMarkedComplete(@TempDir Path tmp) {
        Path out = tmp.resolve("store");
        org.diffrep.ops.UserKernelException e = assertThrows(org.diffrep.ops.UserKernelException.class,
                () -> ExtractFixture.run(config(out).reduce(Map.of("mid", "test-wrong-shape")).build(), model));
        assertTrue(e.getMessage().contains("test-wrong-shape") && e.getMessage().contains("[16, 17]")
                && e.getMessage().contains("expected Float [16, 16]"), e.getMessage());
        InvalidInputException open = assertThrows(InvalidInputException.class, () -> FeatureStore.open(out));
        assertTrue(open.getMessage().contains("incomplete"), open.getMessage());
    }

    @Test
    void configRejectsAReductionForALayerNotExtracted(@TempDir Path tmp) {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> config(tmp).reduce(Map.of("dec.0", "mean")).build());
        assertTrue(e.getMessage().startsWith("reduce: layer 'dec.0'"), e.getMessage());
    }
}
