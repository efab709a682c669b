package org.diffrep.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.diffrep.InvalidInputException;
import org.diffrep.data.MolrgNoiseSpace;
import org.diffrep.io.Json;
import org.diffrep.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MolrgExperimentTest {

    @Test
    void quickRunWritesEveryFileAndCurveAndItsNetworksLoadBack(@TempDir Path dir) throws Exception {
        MolrgExperiment.Settings s = MolrgExperiment.Settings.quick().toBuilder().input(MolrgExperiment.Input.BOTH).build();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        MolrgExperiment.Result r = MolrgExperiment.run(s, dir, new PrintStream(log, true));
        for (String f : new String[]{"bases.npy", "x0.npy", "labels.npy", "molrg.json", "molrg.png", "molrg.svg",
                "mlp_seed0.safetensors", "mlp_seed1.safetensors"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        assertArrayEquals(new long[]{s.k(), s.n(), s.d()}, Npy.read(dir.resolve("bases.npy")).shape());
        assertArrayEquals(new long[]{s.samples(), s.n()}, Npy.read(dir.resolve("x0.npy")).shape());

        JsonNode json = Json.PRETTY.readTree(dir.resolve("molrg.json").toFile());
        assertEquals(s.timesteps().length, json.get("points").size());
        JsonNode p0 = json.get("points").get(0);
        for (String input : new String[]{"clean", "noisy"}) {
            for (String field : new String[]{"csnrOptimum", "csnrOptimumMeanOfRatios", "csnrLinear", "csnrMlp",
                    "csnrMlpMeanOfRatios", "accOptimum", "accMlp", "accBayes"}) {
                assertEquals(s.seeds(), p0.get(input).get(field).get("perSeed").size(), input + "." + field);
            }
        }
        for (String field : new String[]{"mseMlp", "mseOptimum", "mseLinear", "mseGap"}) {
            assertEquals(s.seeds(), p0.get(field).get("perSeed").size(), field);
        }
        assertEquals(s.seeds(), json.get("training").size());
        assertTrue(json.get("noise").asText().contains("x0 + sigma"));
        assertEquals(14, json.get("peaks").size()); // 7 curves per input

        for (MolrgExperiment.Point p : r.points()) {
            // the optimum is the least-squares denoiser: nothing beats it on average, the linear one not at all
            assertTrue(p.mseOptimum().mean() <= p.mseLinear().mean() * (1 + 1e-9), "t=" + p.t());
            assertTrue(p.clean().accBayes().mean() >= 0.9, "clean input is almost always classified right");
            assertTrue(p.noisy().accBayes().mean() >= p.noisy().accOptimum().mean() - 0.05, "the Bayes ceiling, t=" + p.t());
            assertEquals(p.mseMlp().mean() / p.mseOptimum().mean() - 1, p.mseGap().mean(), 0.2 * Math.abs(p.mseGap().mean()) + 1e-6);
        }
        for (MolrgExperiment.Training t : r.training()) {
            assertEquals("cap", t.stopReason()); // 3 epochs cannot reach a 2% gap
            assertTrue(t.checks().size() >= 1);
        }
        // the table has a header, a rule and one row per timestep
        assertEquals(2 + s.timesteps().length, MolrgExperiment.table(r).render().split("\n").length);

        // the saved networks measure the same when loaded instead of trained (noisy input only this time)
        MolrgExperiment.Settings again = s.toBuilder().input(MolrgExperiment.Input.NOISY).models(dir.toString()).build();
        Path out2 = dir.resolve("again");
        Files.createDirectories(out2);
        MolrgExperiment.Result r2 = MolrgExperiment.run(again, out2, new PrintStream(log, true));
        assertNull(r2.points().get(0).clean());
        assertNotNull(r2.points().get(0).noisy());
        assertEquals(7, r2.peaks().size());
        for (int i = 0; i < r.points().size(); i++) {
            assertEquals(r.points().get(i).noisy().csnrMlp().mean(), r2.points().get(i).noisy().csnrMlp().mean(),
                    1e-6 * r.points().get(i).noisy().csnrMlp().mean());
        }
        assertEquals("cap", r2.training().get(0).stopReason()); // as recorded when it was trained
        assertEquals(dir.resolve(MolrgExperiment.modelFile(0)).toString(), r2.training().get(0).source());
        assertEquals(r.training().get(1).steps(), r2.training().get(1).steps());
    }

    @Test
    void theStoppingRuleStopsAtTheToleranceBeforeTheCapOnATinyProblem(@TempDir Path dir) {
        // n=4, one dimension per class, a loose tolerance: the network gets there in a few hundred steps
        MolrgExperiment.Settings s = MolrgExperiment.Settings.builder().n(4).d(1).k(2).samples(400).testSamples(50)
                .validationSamples(200).hidden(32).batch(64).lr(3e-3).epochs(200).evalEvery(25).tolerance(0.3)
                .seeds(1).timesteps(20, 80, 160).probeL2(1e-3).build();
        long cap = MolrgExperiment.Settings.trainingSteps(s.epochs(), s.samples(), s.batch());
        MolrgExperiment.Result r = MolrgExperiment.run(s, dir, new PrintStream(new ByteArrayOutputStream(), true));
        MolrgExperiment.Training t = r.training().get(0);
        assertEquals("tolerance", t.stopReason(), "checks: " + t.checks());
        assertTrue(t.steps() < cap, t.steps() + " steps of a cap of " + cap);
        assertTrue(t.checks().get(t.checks().size() - 1).gap() <= s.tolerance());
        assertEquals(t.steps() % s.evalEvery(), 0);
    }

    @Test
    void complementNoiseSpaceRuns(@TempDir Path dir) throws Exception {
        MolrgExperiment.Settings s = MolrgExperiment.Settings.quick().toBuilder().noiseSpace(MolrgNoiseSpace.COMPLEMENT)
                .seeds(1).epochs(1).probeL2(1e-3).build();
        MolrgExperiment.Result r = MolrgExperiment.run(s, dir, new PrintStream(new ByteArrayOutputStream(), true));
        assertEquals(MolrgNoiseSpace.COMPLEMENT, r.settings().noiseSpace());
        JsonNode json = Json.PRETTY.readTree(dir.resolve("molrg.json").toFile());
        assertEquals("COMPLEMENT", json.get("settings").get("noiseSpace").asText());
        // the optimum is best in expectation; on 300 test samples at the largest sigma the two are within noise
        for (MolrgExperiment.Point p : r.points()) {
            assertTrue(p.mseOptimum().mean() <= p.mseLinear().mean() * 1.02, "t=" + p.t());
        }
    }

    @Test
    void badSettingsAreInputErrors() {
        MolrgExperiment.Settings.Builder q = MolrgExperiment.Settings.quick().toBuilder();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> q.vpSteps(100).timesteps(5, 140).build());
        assertTrue(e.getMessage().startsWith("timesteps: expected values in [0, vpSteps-1] = [0, 99], got 140"), e.getMessage());
        MolrgExperiment.Settings.Builder b = MolrgExperiment.Settings.quick().toBuilder();
        assertThrows(InvalidInputException.class, () -> b.n(10).d(5).k(3).build());
        InvalidInputException tol = assertThrows(InvalidInputException.class,
                () -> MolrgExperiment.Settings.quick().toBuilder().tolerance(-1).build());
        assertTrue(tol.getMessage().startsWith("tolerance: "), tol.getMessage());
        InvalidInputException ps = assertThrows(InvalidInputException.class,
                () -> MolrgExperiment.Settings.quick().toBuilder().probeSamples(100000).build());
        assertTrue(ps.getMessage().startsWith("probeSamples: "), ps.getMessage());
        InvalidInputException in = assertThrows(InvalidInputException.class, () -> MolrgExperiment.Input.parse("dirty", "input"));
        assertTrue(in.getMessage().startsWith("input: expected clean, noisy or both, got 'dirty'"), in.getMessage());
        InvalidInputException ns = assertThrows(InvalidInputException.class, () -> MolrgNoiseSpace.parse("all", "noiseSpace"));
        assertTrue(ns.getMessage().startsWith("noiseSpace: expected others or complement"), ns.getMessage());
        InvalidInputException m = assertThrows(InvalidInputException.class, () -> MolrgModels.load("/no/such/dir", "x", 4, 8));
        assertTrue(m.getMessage().startsWith("models: no file"), m.getMessage());
    }
}
