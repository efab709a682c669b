package org.diffrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.diffrep.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The analysis commands end to end on a small store of real MNIST pixels (features = pixels). */
class AnalysisCommandsTest {

    @TempDir
    static Path tmp;
    static Path store;

    @BeforeAll
    static void makeStore() throws Exception {
        store = org.diffrep.analysis.TestStores.mnistPixels(tmp.resolve("store"), 400, new float[]{0.1f, 1f});
    }

    static String run(int expectedCode, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(expectedCode, r.code(), r.err());
        return r.err();
    }

    @Test
    void clusterWritesArraysJsonAndMontage() throws Exception {
        Path out = tmp.resolve("cl");
        run(0, "cluster", "--features", store.toString(), "--layer", "pixels", "--sigma", "1", "--k", "10",
                "--n-init", "2", "--data", "builtin:mnist", "--out", out.toString());
        JsonNode j = new ObjectMapper().readTree(out.resolve("cluster.json").toFile());
        assertTrue(j.get("nmi").asDouble() > 0.3, j.toString());
        assertEquals(400, Npy.read(out.resolve("assignments.npy")).toLongs().length);
        assertArrayEquals(new long[]{10, 784}, Npy.read(out.resolve("centroids.npy")).shape());
        assertTrue(Files.size(out.resolve("clusters.png")) > 1000);
    }

    @Test
    void sparsityWritesJsonAndFigures() throws Exception {
        Path out = tmp.resolve("sp");
        run(0, "sparsity", "--features", store.toString(), "--layer", "pixels", "--threshold", "0.5",
                "--per-class", "20", "--out", out.toString());
        JsonNode j = new ObjectMapper().readTree(out.resolve("sparsity.json").toFile());
        assertEquals(2, j.get("per_sigma").size());
        for (String f : new String[]{"active_channels.png", "active_channels.svg", "overlap_sigma_1.png"}) {
            assertTrue(Files.size(out.resolve(f)) > 500, f);
        }
    }

    @Test
    void neighboursAndCompare() throws Exception {
        Path out = tmp.resolve("nb");
        run(0, "neighbours", "--features", store.toString(), "--layer", "pixels", "--sigma", "0.1",
                "--query", "0,5", "--k", "4", "--data", "builtin:mnist", "--out", out.toString());
        JsonNode j = new ObjectMapper().readTree(out.resolve("neighbours.json").toFile());
        assertEquals(4, j.get("queries").get(1).get("neighbours").size());
        assertTrue(Files.size(out.resolve("neighbours.png")) > 500);
        run(0, "compare", "--features", store.toString(), "--features", store.toString(), "--layer", "pixels",
                "--projections", "16", "--out", tmp.resolve("cmp").toString());
        JsonNode c = new ObjectMapper().readTree(tmp.resolve("cmp/compare.json").toFile());
        assertEquals(0.0, c.get("rows").get(0).get("swd").asDouble(), 1e-9);
    }

    @Test
    void badInputExitsTwoWithAClearMessage() {
        String err = run(2, "cluster", "--features", store.toString(), "--layer", "mid", "--sigma", "1", "--k", "3",
                "--out", tmp.resolve("x").toString());
        assertTrue(err.contains("no layer 'mid'"), err);
        err = run(2, "cluster", "--features", store.toString(), "--layer", "pixels", "--sigma", "0.5", "--k", "3",
                "--out", tmp.resolve("x").toString());
        assertTrue(err.contains("--sigma 0.5: not in the store") && err.contains("[0.1, 1.0]"), err);
        err = run(2, "cluster", "--features", store.toString(), "--layer", "pixels", "--sigma", "1", "--k", "401",
                "--out", tmp.resolve("x").toString());
        assertTrue(err.contains("--k 401 is larger than the number of rows N = 400"), err);
        err = run(2, "neighbours", "--features", store.toString(), "--layer", "pixels", "--sigma", "1",
                "--query", "3,400", "--out", tmp.resolve("x").toString());
        assertTrue(err.contains("--query 400: out of range [0, 400)"), err);
        err = run(2, "sparsity", "--features", store.toString(), "--layer", "pixels", "--mass", "2",
                "--out", tmp.resolve("x").toString());
        assertTrue(err.contains("--mass must be in (0, 1], got 2.0"), err);
    }
}
