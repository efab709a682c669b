package org.diffrep.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.diffrep.study.MolrgExperiment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MolrgExperimentTest {

    @Test
    void quickRunWritesEveryFileAndCurve(@TempDir Path dir) throws Exception {
        MolrgExperiment.Settings s = MolrgExperiment.Settings.quick();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        MolrgExperiment.Result r = MolrgExperiment.run(s, dir, new PrintStream(log, true));
        for (String f : new String[]{"bases.npy", "x0.npy", "labels.npy", "molrg.json", "molrg.png", "molrg.svg"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        assertArrayEquals(new long[]{s.k(), s.n(), s.d()}, Npy.read(dir.resolve("bases.npy")).shape());
        assertArrayEquals(new long[]{s.samples(), s.n()}, Npy.read(dir.resolve("x0.npy")).shape());
        assertArrayEquals(new long[]{s.samples()}, Npy.read(dir.resolve("labels.npy")).shape());

        JsonNode json = Json.PRETTY.readTree(dir.resolve("molrg.json").toFile());
        assertEquals(s.timesteps().length, json.get("points").size());
        JsonNode p0 = json.get("points").get(0);
        for (String field : new String[]{"t", "sigma", "analyticCsnr", "analyticCsnrRatioOfMeans", "analyticAccuracy",
                "mlpCsnr", "mlpCsnrRatioOfMeans", "mlpAccuracy"}) {
            assertTrue(p0.has(field), "point field " + field);
        }
        assertEquals(s.seeds(), p0.get("mlpAccuracy").get("perSeed").size());
        assertEquals(s.seed(), json.get("settings").get("seed").asLong());
        assertTrue(json.get("noise").asText().contains("x0 + sigma"));
        assertEquals(6, json.get("peaks").size());

        // the analytic CSNR (mean of ratios) rises to an interior peak and falls again
        MolrgExperiment.Peak peak = r.peaks().get(0);
        assertTrue(peak.interior(), "analytic CSNR peak at the grid's edge: t=" + peak.t());
        for (MolrgExperiment.Point p : r.points()) {
            assertTrue(p.analyticAccuracy().mean() >= 0 && p.analyticAccuracy().mean() <= 1);
            assertTrue(p.mlpCsnr().mean() > 0);
        }
        // the table has a header, a rule and one row per timestep
        assertEquals(2 + s.timesteps().length, MolrgExperiment.table(r).render().split("\n").length);
    }

    @Test
    void badSettingsAreInputErrors() {
        MolrgExperiment.Settings q = MolrgExperiment.Settings.quick();
        MolrgExperiment.Settings late = new MolrgExperiment.Settings(q.n(), q.d(), q.k(), q.delta(), q.samples(),
                q.testSamples(), 100, q.epochs(), q.hidden(), q.batch(), q.lr(), q.seeds(), new int[]{5, 140}, 0, Double.NaN);
        InvalidInputException e = assertThrows(InvalidInputException.class, late::validate);
        assertTrue(e.getMessage().startsWith("timesteps: expected values in [0, vpSteps-1] = [0, 99], got 140"), e.getMessage());
        MolrgExperiment.Settings tooWide = new MolrgExperiment.Settings(10, 5, 3, 0.2, 100, 30, 500, 1, 8, 8, 1e-3, 1,
                new int[]{5}, 0, Double.NaN);
        assertThrows(InvalidInputException.class, tooWide::validate);
    }
}
