package org.diffrep.plan;

import org.diffrep.InvalidInputException;
import org.diffrep.extract.InputMode;
import org.diffrep.probe.ProbeKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plans as text: the cross product, overrides, recipes, defaults and messages; nothing is computed. */
class PlanParserTest {

    @TempDir
    Path tmp;

    private Plan parse(String text) {
        return PlanParser.parse(text, tmp.resolve("p.yaml"), null);
    }

    @Test
    void cellsAreTheCrossProductWithDatasetThenModelOverrides() throws Exception {
        Path a = Files.writeString(tmp.resolve("a.safetensors"), "x");
        String plan = "out: " + tmp.resolve("run") + "\n"
                + "models:\n"
                + "  a: " + a + "\n"
                + "  b: {file: " + a + ", extract: {limit: 50}, probe: {kind: mlp}}\n"
                + "  t: {train: {data: mnist, channels: [4, 8], steps: 10}}\n"
                + "data:\n"
                + "  mnist: builtin:mnist\n"
                + "  small: {spec: \"builtin:mnist\", extract: {limit: 100, layers: mid}}\n"
                + "extract: {layers: [mid, dec.0], sigmas: [0.1, 1], input: both, limit: 200}\n"
                + "probe: {label_noise: 0.2}\n";
        Plan p = parse(plan);
        assertEquals(3 * 2 * 2, p.cells().size(), "3 models x 2 datasets x 2 inputs");
        Plan.Cell first = p.cells().get(0);
        assertEquals("a/mnist/clean", first.id());
        assertEquals(List.of("mid", "dec.0"), first.layers());
        assertEquals(200, first.extract().limit());
        assertArrayEquals(new float[]{0.1f, 1f}, first.extract().sigmas());
        assertArrayEquals(new double[]{0.2}, first.probe().labelNoise());
        assertEquals(InputMode.NOISY, p.cells().get(1).input());
        Plan.Cell aSmall = p.cells().get(2);
        assertEquals("a/small/clean", aSmall.id());
        assertEquals(100, aSmall.extract().limit(), "the dataset's override");
        assertEquals(List.of("mid"), aSmall.layers());
        Plan.Cell bSmall = p.cells().get(6);
        assertEquals("b/small/clean", bSmall.id());
        assertEquals(50, bSmall.extract().limit(), "the model's override wins over the dataset's");
        assertEquals(ProbeKind.MLP, bSmall.probe().kind());
        assertEquals(List.of("mid"), bSmall.layers(), "keys the model does not override come from the dataset");
        Plan.ModelSource t = p.models().get("t");
        assertNull(t.file());
        assertEquals("builtin:mnist", t.train().data(), "a recipe's data names a dataset of the plan");
        assertArrayEquals(new int[]{4, 8}, t.train().channels());
        assertEquals(10, t.train().config().steps());
        assertTrue(p.baseline());
        assertEquals(tmp.resolve("run"), p.out());
        // the same cell settings give the same keys; a probe setting changes only the probe key
        String s1 = StageKeys.store(first, "sha256:00"), s2 = StageKeys.store(parse(plan).cells().get(0), "sha256:00");
        assertEquals(s1, s2);
        assertTrue(!s1.equals(StageKeys.store(first, "sha256:01")), "the model's content hash counts");
        assertTrue(!StageKeys.probe(s1, first.probe()).equals(StageKeys.probe(s1, bSmall.probe())));
    }

    @Test
    void messagesNameTheKeyPath() {
        String base = "out: x\nmodels: {}\ndata: {mnist: \"builtin:mnist\"}\n";
        assertMessage(base, "p.yaml: models: expected a map of model name -> model file with at least one entry, got a map");
        assertMessage("out: x\ndata: {mnist: \"builtin:mnist\"}\n", "p.yaml: models: missing");
        assertMessage("models: {a: b}\ndata: {m: \"builtin:mnist\"}\n", "p.yaml: out: missing");
        assertMessage("out: x\nmodels: {\"a b\": m}\ndata: {m: \"builtin:mnist\"}\n", "p.yaml: models.a b: the name 'a b'");
        assertMessage("out: x\nmodels: {t: {train: {data: m, stepz: 3}}}\ndata: {m: \"builtin:mnist\"}\n",
                "p.yaml: models.t.train.stepz: unknown key (did you mean models.t.train.steps?)");
        assertMessage("out: x\nmodels: {t: {train: {data: m, steps: -1}}}\ndata: {m: \"builtin:mnist\"}\n",
                "p.yaml: models.t.train.steps: expected a whole number >= 0, got the number -1");
        assertMessage("- 1\n- 2\n", "p.yaml: expected a map with keys out, models");
        assertMessage("", "p.yaml: the plan is empty");
        String one = base.replace("{}", "{a: b}");
        assertMessage(one + "analyses: {sae: {k: 0}}\n",
                "p.yaml: analyses.sae.k: expected a whole number in [1, 16777216], got the number 0");
        assertMessage(one + "analyses: {sae: {latents: 8, k: 9}}\n", "p.yaml: analyses.sae: k must be in [1, latents=8], got 9");
        assertMessage(one + "analyses: {sae: {topk: 4}}\n", "p.yaml: analyses.sae.topk: unknown key");
        assertMessage(one + "analyses: {sparsity: {mass: 2}}\n", "p.yaml: analyses.sparsity.mass: expected a number in");
        assertMessage(one + "analyses: {sparsity: {mass: 0.5, threshold: 0}}\n",
                "p.yaml: analyses.sparsity: give exactly one of threshold and mass");
        assertMessage(one + "analyses: {pca: true}\n", "p.yaml: analyses.pca: unknown key");
        assertMessage(base.replace("{}", "{a: b}") + "analyses: {cluster: {k: 0}}\n",
                "p.yaml: analyses.cluster.k: expected a whole number in [1, 65536], got the number 0");
    }

    private void assertMessage(String text, String start) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> parse(text));
        String m = e.getMessage().replace(tmp.toString() + "/", "");
        assertTrue(m.startsWith(start), m);
    }
}
