package org.diffrep.plan;

import com.fasterxml.jackson.databind.JsonNode;
import org.diffrep.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.diffrep.plan.PlanRunner.StageKind.BASELINE;
import static org.diffrep.plan.PlanRunner.StageKind.EXTRACT;
import static org.diffrep.plan.PlanRunner.StageKind.PROBE;
import static org.diffrep.plan.PlanRunner.StageKind.SAE;
import static org.diffrep.plan.PlanRunner.StageKind.SPARSITY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stage cache of {@link PlanRunner}: what a second, grown or interrupted run computes again (counted, not timed). */
class PlanRunnerTest {

    @TempDir
    static Path models;
    static Path a, b, c;

    @TempDir
    Path tmp;

    @BeforeAll
    static void models() throws Exception {
        a = PlanFixtures.tinyUnet(models.resolve("a.safetensors"), 1);
        b = PlanFixtures.tinyUnet(models.resolve("b.safetensors"), 2);
        c = PlanFixtures.tinyUnet(models.resolve("c.safetensors"), 3);
    }

    private PlanRunner.Result run(Map<String, Path> ms, Path out, PlanRunner.Listener l) throws Exception {
        Path file = PlanFixtures.write(tmp.resolve("plan.yaml"), PlanFixtures.plan(out, ms));
        return new PlanRunner(PlanParser.read(file, null)).log(null).listener(l).run();
    }

    private PlanRunner.Result run(Map<String, Path> ms, Path out) throws Exception {
        return run(ms, out, new PlanRunner.Listener() {
        });
    }

    @Test
    void aThirdModelComputesOnlyItsCellsAndARerunComputesNothing() throws Exception {
        Path out = tmp.resolve("run");
        Map<String, Path> two = new LinkedHashMap<>(Map.of("a", a));
        two.put("b", b);
        PlanRunner.Result first = run(two, out);
        assertEquals(0, first.failed(), first.cells().toString());
        assertEquals(2, first.computed(EXTRACT));
        assertEquals(2, first.computed(PROBE));
        assertEquals(1, first.computed(BASELINE), "one pixel baseline per dataset selection");
        for (PlanRunner.CellOutcome o : first.cells()) {
            assertEquals(4, o.result().curves().size(), "2 taps x 2 label-noise levels");
            assertEquals(3, o.result().curves().get(0).accuracies().length);
            double acc = o.result().curves().get(0).bestAccuracy();
            assertTrue(acc > 0.2 && acc <= 1, "accuracy " + acc);
        }

        Map<String, Path> three = new LinkedHashMap<>(two);
        three.put("c", c);
        PlanRunner.Result grown = run(three, out);
        assertEquals(0, grown.failed());
        assertEquals(1, grown.computed(EXTRACT), "only the new model's store");
        assertEquals(1, grown.computed(PROBE), "only the new model's probes");
        assertEquals(0, grown.computed(BASELINE));
        assertEquals(2, grown.cached(EXTRACT));
        assertEquals(2, grown.cached(PROBE));
        // the cached cells give the same numbers as when they were computed
        assertEquals(first.cells().get(0).result().curves().get(0).bestAccuracy(),
                grown.cells().get(0).result().curves().get(0).bestAccuracy());

        PlanRunner.Result again = run(three, out);
        assertEquals(0, again.computed(EXTRACT) + again.computed(PROBE) + again.computed(BASELINE));

        JsonNode summary = Json.COMPACT.readTree(out.resolve("summary.json").toFile());
        assertEquals(6, summary.get("rows").size(), "3 cells x 2 taps");
        assertEquals(7, Files.readString(out.resolve("summary.csv")).lines().count(), "header and 6 rows");
        String html = Files.readString(out.resolve("report/index.html"));
        assertTrue(html.contains("data:image/png;base64,") && html.contains("mnist, tap dec.0"), "figures inlined");
        assertTrue(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"), "self-contained");
        assertTrue(Files.isRegularFile(out.resolve("report/figures/mnist-mid.png")));

        // dry run: everything cached
        List<PlanRunner.Planned> planned = new PlanRunner(PlanParser.read(tmp.resolve("plan.yaml"), null)).dryRun();
        assertEquals(3, planned.size());
        planned.forEach(p -> assertTrue(p.storeState().equals("cached") && p.probeCached(), p.toString()));
    }

    @Test
    void clusteringAtThePeakIsItsOwnCachedStage() throws Exception {
        Path out = tmp.resolve("run");
        String base = PlanFixtures.plan(out, Map.of("a", a));
        Path file = PlanFixtures.write(tmp.resolve("plan.yaml"), base + "analyses: {cluster: {n_init: 2}}\n");
        PlanRunner.Result r = new PlanRunner(PlanParser.read(file, null)).log(null).run();
        assertEquals(0, r.failed(), r.cells().toString());
        assertEquals(2, r.computed(PlanRunner.StageKind.CLUSTER), "one per tap");
        PlanRunner.ClusterScore mid = r.cells().get(0).clusters().get("mid");
        assertEquals(10, mid.k(), "k defaults to the number of classes");
        assertTrue(mid.nmi() > 0 && mid.nmi() <= 1 && mid.purity() > 0.1, mid.toString());
        assertEquals(r.cells().get(0).result().curve("mid", 0).bestSigma(), mid.sigma(), 1e-6, "at the peak sigma");
        assertTrue(Files.readString(out.resolve("report/index.html")).contains("k-means NMI"));

        PlanFixtures.write(file, base + "analyses: {cluster: {n_init: 3}}\n");
        PlanRunner.Result again = new PlanRunner(PlanParser.read(file, null)).log(null).run();
        assertEquals(2, again.computed(PlanRunner.StageKind.CLUSTER), "new k-means settings: new clusters");
        assertEquals(0, again.computed(EXTRACT) + again.computed(PROBE), "the same stores and probes");
    }

    @Test
    void sparsityAndSaeAtThePeakAreCachedStagesOfTheirOwn() throws Exception {
        Path out = tmp.resolve("run");
        String base = PlanFixtures.plan(out, Map.of("a", a));
        Path file = PlanFixtures.write(tmp.resolve("plan.yaml"), base
                + "analyses: {sparsity: {per_class: 5}, sae: {latents: 16, k: 4, steps: 20, batch: 32}}\n");
        PlanRunner.Result r = new PlanRunner(PlanParser.read(file, null)).log(null).run();
        assertEquals(0, r.failed(), r.cells().toString());
        assertEquals(2, r.computed(SPARSITY), "one per tap");
        assertEquals(2, r.computed(SAE), "one per tap");
        PlanRunner.CellOutcome o = r.cells().get(0);
        double peak = o.result().curve("mid", 0).bestSigma();
        PlanRunner.SparsityScore sp = o.sparsity().get("mid");
        assertEquals(peak, sp.sigma(), 1e-6, "at the peak sigma");
        assertTrue(sp.meanActive() > 0 && sp.withinOverlap() >= 0 && sp.withinOverlap() <= 1, sp.toString());
        PlanRunner.SaeScore sae = o.saes().get("mid");
        assertEquals(16, sae.latents());
        assertNotNull(sae.testFvu(), "the store has test rows");
        assertTrue(Files.isRegularFile(out.resolve(sae.file())), sae.file());
        assertTrue(Files.isRegularFile(out.resolve(sp.json())), sp.json());
        JsonNode row = Json.COMPACT.readTree(out.resolve("summary.json").toFile()).get("rows").get(0);
        assertEquals(sp.meanActive(), row.get("meanActive").asDouble(), 1e-9);
        assertEquals(sae.testFvu(), row.get("saeTestFvu").asDouble(), 1e-9);
        assertTrue(Files.readString(out.resolve("summary.csv")).lines().findFirst().orElseThrow().contains("sae_test_fvu"));
        assertTrue(Files.readString(out.resolve("report/index.html")).contains("SAE FVU"));

        PlanRunner.Result same = new PlanRunner(PlanParser.read(file, null)).log(null).run();
        assertEquals(0, same.computed(SPARSITY) + same.computed(SAE) + same.computed(EXTRACT) + same.computed(PROBE),
                "a rerun computes nothing");
        assertEquals(2, same.cached(SAE));
        assertEquals(sae, same.cells().get(0).saes().get("mid"), "the cached SAE gives the same numbers");

        PlanFixtures.write(file, base
                + "analyses: {sparsity: {per_class: 5}, sae: {latents: 16, k: 2, steps: 20, batch: 32}}\n");
        PlanRunner.Result again = new PlanRunner(PlanParser.read(file, null)).log(null).run();
        assertEquals(2, again.computed(SAE), "new SAE settings: new SAEs");
        assertEquals(0, again.computed(SPARSITY) + again.computed(EXTRACT) + again.computed(PROBE), "nothing else");
        assertEquals(2, again.cached(SPARSITY));
    }

    /** Thrown by the test's listener to stop a run the way a kill would: not caught by the cell. */
    static final class Killed extends Error {
        Killed() {
            super("simulated kill");
        }
    }

    @Test
    void aRunKilledMidStoreResumesWithoutRecomputingFinishedWork() throws Exception {
        Path out = tmp.resolve("run");
        Map<String, Path> two = new LinkedHashMap<>(Map.of("a", a));
        two.put("b", b);
        // killed after the first shard of the second cell's store: cell a is finished, cell b's store half written
        AtomicInteger shards = new AtomicInteger();
        assertThrows(Killed.class, () -> run(two, out, new PlanRunner.Listener() {
            @Override
            public void afterShard(PlanRunner.Stage stage, int shard) {
                if (stage.subject().startsWith("b/") && shards.incrementAndGet() == 1) {
                    throw new Killed();
                }
            }
        }));
        assertFalse(Files.exists(out.resolve("summary.json")), "no summary from a killed run");

        List<String> computed = new ArrayList<>();
        List<Integer> shardsAgain = new ArrayList<>();
        PlanRunner.Result again = run(two, out, new PlanRunner.Listener() {
            @Override
            public void beforeStage(PlanRunner.Stage stage) {
                computed.add(stage.kind() + " " + stage.subject());
            }

            @Override
            public void afterShard(PlanRunner.Stage stage, int shard) {
                shardsAgain.add(shard);
            }
        });
        assertEquals(0, again.failed());
        assertEquals(List.of("EXTRACT b/mnist/clean", "PROBE b/mnist/clean"), computed,
                "cell a, its probes and the baseline were done before the kill");
        assertEquals(List.of(1), shardsAgain, "the store resumes at its second shard");
    }

    @Test
    void aFailingCellIsReportedAndTheOthersFinish() throws Exception {
        Path bad = Files.writeString(tmp.resolve("broken.safetensors"), "not a model");
        Map<String, Path> ms = new LinkedHashMap<>(Map.of("broken", bad));
        ms.put("a", a);
        Path out = tmp.resolve("run");
        PlanRunner.Result r = run(ms, out);
        assertEquals(1, r.failed());
        PlanRunner.CellOutcome broken = r.cells().get(0), ok = r.cells().get(1);
        assertNotNull(broken.error());
        assertTrue(broken.error().contains("broken.safetensors"), broken.error());
        assertNull(ok.error());
        assertNotNull(ok.result());
        String html = Files.readString(out.resolve("report/index.html"));
        assertTrue(html.contains("failed: "), "the report shows the failure");
        assertTrue(Files.readString(out.resolve("summary.csv")).contains("failed"));
    }
}
