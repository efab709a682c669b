package org.diffrep.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.cli.CliRun;
import org.diffrep.io.Json;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.UNet;
import org.diffrep.probe.ProbeResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Models compared on the same reconstruction targets: rates, Wilson intervals, paired differences, the command. */
class ReconstructionComparisonTest {

    private static ReconstructionComparison.Outcome outcome(long[][] pixels) {
        return new ReconstructionComparison.Outcome(new int[]{5, 9, 2, 4}, new long[]{1, 2, 3, 4}, pixels, pixels);
    }

    @Test
    void ratesIntervalsAndPairedDifferenceOnConstructedOutcomes() {
        // A: targets matched 2/2, 0/2, 1/2, 0/2 (3 of 8); B: 2/2, 2/2, 1/2, 1/2 (6 of 8)
        var a = outcome(new long[][]{{1, 1}, {0, 0}, {3, 7}, {9, 9}});
        var b = outcome(new long[][]{{1, 1}, {2, 2}, {3, 0}, {4, 5}});
        var c = ReconstructionComparison.of(List.of("a", "b"), List.of("a.st", "b.st"), List.of(a, b), "m");
        var sa = c.models().get(0);
        assertEquals(3, sa.pixelMatches());
        assertEquals(3 / 8.0, sa.pixelRate(), 1e-12);
        assertArrayEquals(ProbeResult.wilson95(3 / 8.0, 8), sa.pixelInterval95(), 1e-12);
        assertEquals(0.5, sa.atLeastOneRate(), 1e-12);
        assertArrayEquals(ProbeResult.wilson95(0.5, 4), sa.atLeastOneInterval95(), 1e-12);
        assertEquals(0.25, sa.allRate(), 1e-12);
        assertEquals(6 / 8.0, c.models().get(1).pixelRate(), 1e-12);
        var p = c.paired().get(0);
        // per-target differences 0, 1, 0, 0.5: mean 0.375, sd sqrt(0.229166...)
        assertEquals(0.375, p.difference(), 1e-12);
        double half = 1.959963984540054 * Math.sqrt((0.375 * 0.375 * 2 + 0.625 * 0.625 + 0.125 * 0.125) / 3 / 4);
        assertArrayEquals(new double[]{0.375 - half, 0.375 + half}, p.interval95(), 1e-12);
        assertEquals(2, p.better());
        assertEquals(0, p.worse());
        assertEquals(2, p.same());
        var other = new ReconstructionComparison.Outcome(new int[]{5, 9, 2, 3}, new long[]{1, 2, 3, 4},
                b.pixelClasses(), b.pixelClasses());
        assertThrows(IllegalArgumentException.class,
                () -> ReconstructionComparison.of(List.of("a", "b"), List.of("a", "b"), List.of(a, other), "m"));
    }

    private static Path tinyUNet(Path dir, String name, long seed) throws Exception {
        torch.manual_seed(seed);
        UNet net = new UNet(new UNet.Config(new long[]{1, 28, 28}, new int[]{8, 8}, 1, new int[0],
                NoiseEmbedding.SINUSOIDAL, Parametrisation.EDM));
        net.train(false);
        Path f = dir.resolve(name);
        ModelFiles.save(net, f, Map.of("note", "untrained, for wiring tests"));
        return f;
    }

    @Test
    void commandComparesModelsOnTheSameTargetsAndReadsThemBack(@TempDir Path tmp) throws Exception {
        Path a = tinyUNet(tmp, "a.safetensors", 1), b = tinyUNet(tmp, "b.safetensors", 2);
        Path out = tmp.resolve("cmp");
        // model a scored alone into cmp/a first: the comparison reads it back
        CliRun alone = CliRun.of("--threads", "1", "reconstruct", "--model", a.toString(), "--data", "builtin:mnist",
                "--targets", "3", "--samples", "2", "--max-steps", "2", "--baseline", "2", "--knn-images", "100",
                "--metric-images", "100", "--out", out.resolve("a").toString());
        assertEquals(0, alone.code(), alone.err());
        assertTrue(alone.out().contains("95% Wilson"), alone.out());
        String[] args = {"--threads", "1", "reconstruct", "--model", a.toString(), "--model", b.toString(), "--data",
                "builtin:mnist", "--targets", "3", "--samples", "2", "--max-steps", "2", "--baseline", "2",
                "--knn-images", "100", "--metric-images", "100", "--out", out.toString()};
        CliRun r = CliRun.of(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("diffrep's own change to the paper's method"), r.out());
        assertTrue(r.out().contains("b - a"), r.out());
        assertTrue(r.err().contains("a: read back") && !r.err().contains("b: read back"), r.err());
        JsonNode c = Json.COMPACT.readTree(out.resolve("comparison.json").toFile());
        assertEquals(2, c.get("models").size());
        assertEquals(1, c.get("paired").size());
        JsonNode sa = Json.COMPACT.readTree(out.resolve("a/scores.json").toFile()).get("outcome");
        JsonNode sb = Json.COMPACT.readTree(out.resolve("b/scores.json").toFile()).get("outcome");
        assertEquals(sa.get("targets"), sb.get("targets"), "same targets for both models");
        assertEquals(3, sa.get("targets").size());
        JsonNode study = Json.COMPACT.readTree(out.resolve("a/study.json").toFile());
        assertTrue(study.get("method").asText().startsWith("diffrep's own change"), study.get("method").asText());
        assertEquals(2, study.get("match_rate_interval95").size());
        assertTrue(Files.size(out.resolve("b/study.png")) > 200);
        // the rerun reads both models back and writes the same comparison
        byte[] first = Files.readAllBytes(out.resolve("comparison.json"));
        CliRun again = CliRun.of(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("a: read back") && again.err().contains("b: read back"), again.err());
        assertArrayEquals(first, Files.readAllBytes(out.resolve("comparison.json")));
        // several models need --targets; a model twice is refused
        CliRun bad = CliRun.of("reconstruct", "--model", a + "," + b, "--data", "builtin:mnist", "--index", "3",
                "--out", tmp.resolve("bad").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.message().contains("several --model"), bad.message());
        CliRun twice = CliRun.of("reconstruct", "--model", a.toString(), "--model", a.toString(), "--data",
                "builtin:mnist", "--targets", "2", "--out", tmp.resolve("bad2").toString());
        assertEquals(2, twice.code(), twice.err());
        assertTrue(twice.message().contains("given twice"), twice.message());
    }
}
