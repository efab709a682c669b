package org.diffrep.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.diffrep.io.Json;
import org.diffrep.noise.SigmaGrid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo's real-data part at a small size: builtin:unet-mnist's dec.0 features of 600 digits of builtin:mnist,
 * clean input, at four levels of the default grid's range (its two ends, and two inside). The research's finding on
 * real data: the probe beats the raw pixels on the same split, and the best level is not at an end of the range.
 */
class MnistDemoTest {

    @Test
    void theShippedUnetBeatsRawPixelsWithItsPeakInsideTheGrid(@TempDir Path dir) throws Exception {
        MnistDemo.Settings s = new MnistDemo.Settings("builtin:unet-mnist", "builtin:mnist", 600, List.of("dec.0"),
                SigmaGrid.parse("0.002,0.3,4.74,80"), 1e-3, "store", "mean");
        MnistDemo.Result r = MnistDemo.run(s, dir, null);
        MnistDemo.Best b = r.best();
        String what = b + " pixels " + r.pixelAccuracy();
        assertTrue(b.inside() && b.sigmaIndex() > 0 && b.sigmaIndex() < 3, what);
        assertTrue(b.accuracy() > r.pixelAccuracy(), what);
        assertTrue(b.interval()[0] < b.accuracy() && b.accuracy() < b.interval()[1], what);
        // the files the demo points people at, with the fields its summary reads
        assertTrue(Files.exists(dir.resolve("mnist.png")) && Files.exists(dir.resolve("mnist.svg")));
        JsonNode json = Json.COMPACT.readTree(dir.resolve("mnist.json").toFile());
        assertEquals("dec.0", json.at("/best/layer").asText());
        assertEquals(b.accuracy(), json.at("/best/accuracy").asDouble(), 1e-12);
        assertEquals(4, json.at("/report/curves/0/points").size());
        assertFalse(json.at("/report/csnr/0/ratioOfMeans").isMissingNode());
        List<String> lines = MnistDemo.summary(r, dir);
        assertTrue(lines.get(0).startsWith("best tap dec.0") && lines.get(0).contains("inside the grid"), lines.get(0));
        assertTrue(lines.get(2).contains("best tap above"), lines.get(2));
    }
}
