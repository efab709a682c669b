package org.diffrep.cli;

import org.diffrep.extract.FeatureStore;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code extract --reduce / --kernel-file}: a shared-library kernel end to end, and its input errors (exit 2, one line). */
class ReduceOptionTest {

    @TempDir
    static Path dir;
    static Path modelFile;

    @BeforeAll
    static void saveModel() throws Exception {
        MlpDenoiser.Config c = new MlpDenoiser.Config(new long[]{1, 28, 28}, 2, 32, "silu", "sinusoidal", 16,
                Parametrisation.EDM);
        NetworkDenoiser m = ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(c)), 5);
        modelFile = dir.resolve("mlp.safetensors");
        ModelFiles.save(m, modelFile, Map.of("purpose", "ReduceOptionTest"));
    }

    private static String[] args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("--threads", "2", "extract", "--model", modelFile.toString(),
                "--data", "builtin:mnist", "--layers", "enc.0,enc.1", "--sigmas", "0.1,1", "--limit", "30",
                "--batch", "16", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static Path build(Path libDir, String extra) throws Exception {
        Files.createDirectories(libDir);
        Path src = libDir.resolve("channel_rms.cpp");
        Files.writeString(src, Files.readString(Path.of("examples/kernels/channel_rms.cpp")) + extra);
        Path lib = libDir.resolve("libchannel_rms.so");
        Process p = new ProcessBuilder("g++", "-O2", "-shared", "-fPIC", src.toString(), "-o", lib.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, log);
        return lib;
    }

    @Test
    void aSharedLibraryKernelPerTapAndResumeRefusingItsChange() throws Exception {
        Path lib = build(dir.resolve("lib"), "");
        Path out = dir.resolve("store");
        CliRun first = CliRun.of(args(out, "--kernel-file", lib.toString(), "--reduce", "enc.1=channel_rms"));
        assertEquals(0, first.code(), first.err());
        FeatureStore s = FeatureStore.open(out);
        assertEquals("shared-library", s.manifest().settings().reductions().get("enc.1").kind());
        assertEquals("builtin", s.manifest().settings().reductions().get("enc.0").kind());
        // a 2-D tap [B, C]: one position, so the RMS is |x|
        float[][] rms = s.features("enc.1", 1);
        assertTrue(rms[0][0] >= 0);

        build(dir.resolve("lib"), "\nextern \"C\" int channel_rms_revision(void) { return 2; }\n");
        CliRun again = CliRun.of(args(out, "--kernel-file", lib.toString(), "--reduce", "enc.1=channel_rms",
                "--resume"));
        assertEquals(2, again.code(), again.err());
        assertTrue(again.message().contains("reduction channel_rms of layer enc.1 changed its code"), again.err());
        assertFalse(again.err().contains("Exception"), again.err());
    }

    @Test
    void aMissingLibraryOrSymbolIsAnInputErrorNamingIt() throws Exception {
        CliRun gone = CliRun.of(args(dir.resolve("s1"), "--kernel-file", "k=/nonexistent/libk.so", "--reduce", "enc.1=k"));
        assertEquals(2, gone.code(), gone.err());
        assertTrue(gone.message().startsWith("diffrep extract: --kernel-file: /nonexistent/libk.so"), gone.err());

        Path lib = build(dir.resolve("lib2"), "");
        CliRun noSym = CliRun.of(args(dir.resolve("s2"), "--kernel-file", "k=" + lib + "#nothing_here", "--reduce",
                "enc.1=k"));
        assertEquals(2, noSym.code(), noSym.err());
        assertTrue(noSym.message().contains("nothing_here_rows") && noSym.message().contains(lib.toString()),
                noSym.err());

        CliRun unknown = CliRun.of(args(dir.resolve("s3"), "--reduce", "enc.1=nope"));
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.message().contains("--reduce: unknown reduction 'nope'"), unknown.err());
    }
}
