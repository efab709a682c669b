package org.diffrep.cli;

import org.diffrep.plan.PlanFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code diffrep run}: plan errors (exit 2, one line naming the key path), dry runs, failing cells (exit 1). */
class RunCommandTest {

    @TempDir
    static Path shared;
    static Path model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void model() throws Exception {
        model = PlanFixtures.tinyUnet(shared.resolve("a.safetensors"), 1);
    }

    private CliRun runPlan(String text, String... extra) throws Exception {
        Path file = PlanFixtures.write(tmp.resolve("plan.yaml"), text);
        String[] args = new String[extra.length + 2];
        args[0] = "run";
        args[1] = file.toString();
        System.arraycopy(extra, 0, args, 2, extra.length);
        return CliRun.of(args);
    }

    private String good() {
        return PlanFixtures.plan(tmp.resolve("out"), Map.of("a", model));
    }

    /** Exit 2, one line on stderr naming the plan and {@code expected}, no stack trace. */
    private void assertBadPlan(String text, String... expected) throws Exception {
        CliRun r = runPlan(text);
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().filter(l -> !l.isBlank()).count(), "one line: " + r.err());
        assertTrue(r.message().startsWith("diffrep run: " + tmp.resolve("plan.yaml")), r.message());
        for (String e : expected) {
            assertTrue(r.message().contains(e), "'" + e + "' in: " + r.message());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace");
        assertFalse(Files.exists(tmp.resolve("out")), "nothing computed for a bad plan");
    }

    @Test
    void badPlansExitTwoWithTheKeyPath() throws Exception {
        assertBadPlan(good().replace("label_noise", "label_nosie"),
                "probe.label_nosie: unknown key (did you mean probe.label_noise?)");
        assertBadPlan(good() + "colour: blue\n", "colour: unknown key; expected one of out, models, data");
        assertBadPlan(good().replace("limit: 200", "limit: many"),
                "extract.limit: expected a whole number >= 0, got the text 'many'");
        assertBadPlan(good().replace("[0, 0.4]", "[0, 1.5]"),
                "probe.label_noise[1]: expected a number in [0, 1), got the number 1.5");
        assertBadPlan(good().replace("layers: [mid, dec.0]", "layers: {mid: 1}"), "extract.layers: expected a tap name");
        assertBadPlan(good().replace(model.toString(), tmp.resolve("missing.safetensors").toString()),
                "models.a: ", "missing.safetensors: no such model file");
        assertBadPlan(good().replace("builtin:mnist", "nosuch:x"), "data.mnist: ");
        assertBadPlan(good().replace("sigmas: [0.05, 0.5, 3]", "sigmas: \"log:1,2\""), "extract.sigmas: ");
        assertBadPlan(good().replace("sigmas: [0.05, 0.5, 3]", "sigmas: [0.05, -1]"),
                "extract.sigmas[1]: expected a number >= 0, got the number -1");
        assertBadPlan(good().replace("limit: 200", "noise_draws: 3"), "extract.noise_draws > 1 needs input noisy");
        assertBadPlan(good().replace("input: clean", "input: blurry"),
                "extract.input: expected clean, noisy or both, got the text 'blurry'");
        assertBadPlan("models: [1\n", "not valid YAML (line");
        assertBadPlan(good().replace("models:\n", "models:\n  b: {file: " + model + ", train: {data: mnist}}\n"),
                "models.b: expected exactly one of file");
        assertBadPlan(good().replace("kind: linear", "kind: svm"), "probe.kind: ", "linear");
        assertBadPlan(good().replace("probe: {", "probe: {kind: mlp, "), "not valid YAML", "Duplicate field 'kind'");
        // a data file that the spec names but that is not there: found before any work
        assertBadPlan(good().replace("builtin:mnist", "idx:" + tmp.resolve("nodata")), "data.mnist: ");
    }

    @Test
    void dryRunListsCellsThenAFailingCellGivesExitOneAndTheOthersFinish() throws Exception {
        Path bad = Files.writeString(tmp.resolve("broken.safetensors"), "not a model");
        Map<String, Path> ms = new LinkedHashMap<>();
        ms.put("a", model);
        ms.put("broken", bad);
        Path out = tmp.resolve("out");
        String plan = PlanFixtures.plan(out, ms);

        CliRun dry = runPlan(plan, "--dry-run");
        assertEquals(0, dry.code(), dry.err());
        assertTrue(dry.out().contains("a/mnist/clean") && dry.out().contains("broken/mnist/clean"), dry.out());
        assertTrue(dry.out().contains("to compute") && dry.out().contains("2 cells"), dry.out());
        assertFalse(Files.exists(out.resolve("stores")), "a dry run computes nothing");

        CliRun r = runPlan(plan, "--jobs", "2");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.out().contains("failed: ") && r.out().contains("broken.safetensors"), r.out());
        assertTrue(r.out().contains("2 cells, 1 failed"), r.out());
        assertTrue(Files.isRegularFile(out.resolve("report/index.html")));

        CliRun dry2 = runPlan(plan, "--dry-run");
        assertTrue(dry2.out().lines().anyMatch(l -> l.startsWith("a/mnist/clean") && l.contains("cached")), dry2.out());

        assertEquals(2, runPlan(plan, "--jobs", "0").code(), "--jobs must be >= 1");
    }
}
