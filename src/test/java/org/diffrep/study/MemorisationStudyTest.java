package org.diffrep.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.diffrep.cli.CliRun;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code diffrep memorisation} on real digits at tiny sizes: files, shapes, caching, bad input. */
class MemorisationStudyTest {

    private static String[] args(Path out, String subsets) {
        return new String[]{"--threads", "1", "memorisation", "--data", "builtin:mnist", "--subsets", subsets,
                "--channels", "8,8", "--steps", "4", "--batch", "8", "--sigmas", "0.1,1", "--probe-images", "100",
                "--samples", "6", "--max-steps", "3", "--mse-images", "10", "--no-csnr", "--out", out.toString()};
    }

    @Test
    void trainsProbesAndMeasuresEachSubsetThenReusesTheModels(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("memo");
        CliRun r = CliRun.of(args(out, "16,64"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("n=16") && r.out().contains("n=64"), r.out());
        assertTrue(r.out().contains("raw pixels, linear probe"), r.out());
        JsonNode j = Json.COMPACT.readTree(out.resolve("memorisation.json").toFile());
        JsonNode models = j.get("models");
        assertEquals(2, models.size());
        assertEquals(16, models.get(0).get("trainImages").asInt());
        assertEquals(64, models.get(1).get("trainImages").asInt());
        for (JsonNode m : models) {
            JsonNode points = m.get("probe").get("curves").get(0).get("points");
            assertEquals(2, points.size(), "one probe per sigma");
            int testCount = m.get("probe").get("testCount").asInt();
            assertEquals(100, testCount + m.get("probe").get("trainCount").asInt(), "the 100 probe images");
            assertTrue(testCount >= 18 && testCount <= 22, "about 20% for the test: " + testCount);
            double ratio = m.get("medianTrainOverHeldOut").asDouble();
            assertTrue(ratio > 0 && Double.isFinite(ratio), "ratio " + ratio);
            double copies = m.get("memorisedFraction").asDouble();
            assertTrue(copies >= 0 && copies <= 1, "copies " + copies);
            assertEquals(m.get("trainImages").asInt(), m.get("heldOutReference").asInt(), "equal-size held-out set");
            assertTrue(m.get("trainMse").asDouble() > 0 && m.get("heldOutMse").asDouble() > 0);
            assertTrue(Files.isRegularFile(out.resolve(m.get("modelFile").asText())));
        }
        assertTrue(Files.size(out.resolve("memorisation.png")) > 1000);
        assertTrue(Files.isRegularFile(out.resolve("memorisation.svg")));
        List<Path> samples = list(out.resolve("samples"), ".npy");
        assertEquals(2, samples.size());
        assertArrayEquals(new long[]{6, 1, 28, 28}, Npy.read(samples.get(0)).shape());
        assertEquals(2, list(out.resolve("samples"), ".png").size());
        assertEquals(2, list(out.resolve("models"), ".safetensors").size());

        // a rerun reads every model back and gives the same numbers; a new size trains only that model
        byte[] samplesBefore = Files.readAllBytes(samples.get(0));
        CliRun again = CliRun.of(args(out, "16,64,200"));
        assertEquals(0, again.code(), again.err());
        assertEquals(2, again.err().split("model: read back", -1).length - 1, again.err());
        assertEquals(1, again.err().split("  training ", -1).length - 1, again.err());
        JsonNode j2 = Json.COMPACT.readTree(out.resolve("memorisation.json").toFile());
        assertEquals(3, j2.get("models").size());
        assertEquals(models.get(1).get("medianTrainOverHeldOut").asDouble(),
                j2.get("models").get(1).get("medianTrainOverHeldOut").asDouble(), 0);
        assertArrayEquals(samplesBefore, Files.readAllBytes(samples.get(0)));
    }

    @Test
    void badSubsetsAreInputErrors(@TempDir Path tmp) {
        for (String[] bad : new String[][]{{"64,16", "increasing"}, {"16,all,64", "'all'"}, {"0,16", "at least 2"},
                {"16,abc", "--subsets"}, {"1", "at least 2"}, {"16,9000", "training split"}}) {
            CliRun r = CliRun.of(args(tmp.resolve("bad"), bad[0]));
            assertEquals(2, r.code(), bad[0] + ": " + r.err());
            assertTrue(r.message().contains(bad[1]), bad[0] + ": " + r.message());
            assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());
        }
    }

    private static List<Path> list(Path dir, String suffix) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(p -> p.toString().endsWith(suffix)).sorted().toList());
        }
    }
}
