package org.diffrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code diffrep sweep} and {@code diffrep probe} end to end on real MNIST digits. */
class ProbeCommandsTest {

    @TempDir
    Path tmp;

    @Test
    void sweepExtractsBothInputsProbesAndPlotsThenProbeReusesTheStore() throws Exception {
        NetworkDenoiser model = ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(new MlpDenoiser.Config(
                new long[]{1, 28, 28}, 2, 64, "relu", "sinusoidal", 16, Parametrisation.EDM))), 11);
        Path file = tmp.resolve("mlp.safetensors");
        ModelFiles.save(model, file, Map.of("note", "random weights, test fixture"));
        Path out = tmp.resolve("sweep");
        CliRun r = CliRun.of("--threads", "2", "sweep", "--model", file.toString(),
                "--data", "builtin:mnist", "--layers", "enc.0", "--sigmas", "0.1,1,3", "--input", "both",
                "--limit", "300", "--label-noise", "0,0.4", "--ensemble-width", "1", "--l2", "0.01",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("clean input") && r.out().contains("noisy input") && r.out().contains("ensemble"), r.out());
        for (String f : new String[]{"sweep.json", "accuracy_vs_sigma.png", "accuracy_vs_sigma.svg",
                "features-clean/manifest.json", "features-noisy/features/enc.0/sigma_2.npy"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        JsonNode json = new ObjectMapper().readTree(out.resolve("sweep.json").toFile());
        JsonNode curves = json.get("clean").get("curves");
        assertEquals(2, curves.size(), "one curve per label-noise level");
        assertEquals(3, curves.get(0).get("points").size());
        double acc = curves.get(0).get("ensemble").get("result").get("accuracy").asDouble();
        assertTrue(acc > 0.3 && acc <= 1, "ensemble accuracy " + acc);

        Path probeOut = tmp.resolve("probe");
        CliRun p = CliRun.of("probe", "--features", out.resolve("features-clean").toString(),
                "--probe", "bn-linear", "--epochs", "3", "--out", probeOut.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(Files.isRegularFile(probeOut.resolve("probe.json")));
        assertTrue(Files.isRegularFile(probeOut.resolve("accuracy_vs_sigma.png")));

        assertEquals(2, CliRun.of("probe", "--features", out.resolve("features-clean").toString(),
                "--layer", "mid", "--out", probeOut.toString()).code(), "unknown layer");
        assertEquals(2, CliRun.of("probe", "--features", out.resolve("features-clean").toString(),
                "--label-noise", "1.5", "--out", probeOut.toString()).code(), "label noise out of range");
        assertEquals(2, CliRun.of("probe", "--features", tmp.resolve("missing").toString(),
                "--out", probeOut.toString()).code(), "missing store");
    }
}
