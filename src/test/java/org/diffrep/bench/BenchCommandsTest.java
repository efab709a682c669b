package org.diffrep.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.diffrep.ops.Threads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every benchmark command runs at tiny sizes with one timed run, prints its table and writes its
 * JSON; --help works. Smoke tests only: nothing here depends on a timing.
 */
class BenchCommandsTest {

    @TempDir
    Path tmp;

    /** Exit code and what the command printed on stdout and stderr. */
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Bench.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static Run ok(String... args) {
        Run r = run(args);
        assertEquals(0, r.code(), r.out() + r.err());
        return r;
    }

    private static JsonNode json(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    @AfterAll
    static void allCores() {
        Threads.set(0);
    }

    @Test
    void helpOfEveryCommand() {
        assertTrue(ok("--help").out().contains("kernels"));
        for (String command : new String[]{"kernels", "jmh", "model", "extract", "sae", "data"}) {
            Run r = ok(command, "--help");
            assertTrue(r.out().startsWith("Usage: bench " + command), r.out());
            assertTrue(r.out().contains("--threads") && r.out().contains("--json"), r.out());
        }
        assertTrue(ok("--version").out().startsWith("diffrep benchmarks "));
    }

    @Test
    void usageErrorsExitWithTwo() {
        Run r = run("kernels", "--no-such-option");
        assertEquals(2, r.code(), r.out() + r.err());
        r = run("kernels", "--reps", "0");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--reps"), r.err());
    }

    @Test
    void kernelsPrintsTheRatioTable() throws IOException {
        Path file = tmp.resolve("kernels.json");
        Run r = ok("kernels", "--threads", "1", "--batch", "4", "--reps", "1", "--warmup", "0", "--json", file.toString());
        assertTrue(r.out().contains("ours ms  libtorch ms"), r.out());
        for (String row : new String[]{"noise x10        [4,1,28,28]", "noise x10 fresh  [4,128,8,8]", "pool             [4,512,16,16]",
                "topk k=64        [4,16384]", "pool+topk k=32   [4,512,16,16]"}) {
            assertTrue(r.out().contains(row), r.out());
        }
        assertEquals(11, json(file).get("results").size());
    }

    @Test
    void jmhRunsTheKernelBenchmarksAndPrintsTheSameTable() throws IOException {
        Path file = tmp.resolve("jmh.json");
        Path raw = tmp.resolve("jmh-raw.json");
        Run r = ok("jmh", "--threads", "1", "--batch", "4", "--forks", "0", "--warmup", "0", "--iterations", "1",
                "--time", "5ms", "--verbosity", "SILENT", "--json", file.toString(), "--jmh-result", raw.toString(),
                "pool");
        assertTrue(r.out().contains("ours ms  libtorch ms"), r.out());
        assertTrue(r.out().contains("pool             [4,128,8,8]"), r.out());
        assertTrue(r.out().contains("pool+topk k=8    [4,128,8,8]"), r.out());
        assertEquals(4, json(file).get("results").size(), r.out());
        // JMH's own file: xxxOurs and xxxLibtorch of pool and poolTopk, two cases each
        assertEquals(8, json(raw).size());
    }

    @Test
    void modelPrintsThroughputs() throws IOException {
        Path file = tmp.resolve("model.json");
        Run r = ok("model", "--threads", "1", "--batch", "2", "--train-batch", "2", "--reps", "1",
                "--json", file.toString());
        assertTrue(r.out().contains("forward, inference mode"), r.out());
        assertTrue(r.out().contains("training step"), r.out());
        assertTrue(json(file).has("train_img_s"));
    }

    @Test
    void extractComparesWithThePlainLoopAndMeasuresMemoryInAFreshJvm() throws IOException {
        Path file = tmp.resolve("extract.json");
        Run r = ok("extract", "--threads", "1", "--images", "4", "--batch", "4", "--memory-sizes", "4", "--python-images", "0",
                "--json", file.toString());
        assertTrue(r.out().contains("diffrep extract") && r.out().contains("libtorch loop"), r.out());
        assertTrue(r.out().contains("memory: 4 images"), r.out());
        JsonNode doc = json(file);
        assertTrue(doc.get("speed").has("speedup"), doc.toString());
        assertEquals(4, doc.get("memory").get(0).get("images").asInt(), doc.toString());
    }

    @Test
    void saeComparesTrainerAndPlainLoopAndValidates() throws IOException {
        Path file = tmp.resolve("sae.json");
        Run r = ok("sae", "--threads", "1", "--rows", "100", "--latents", "32", "--k", "4", "--steps", "2",
                "--batch", "16", "--reps", "1", "--validate", "--json", file.toString());
        assertTrue(r.out().contains("diffrep (native topk)") && r.out().contains("plain LibTorch loop"), r.out());
        assertTrue(r.out().contains("probe accuracy (test)"), r.out());
        assertTrue(json(file).has("ratio"));
    }

    @Test
    void dataMeasuresDecodeAgainstTheForwardAndMemoryInAFreshJvm() throws IOException {
        Path file = tmp.resolve("data.json");
        Run r = ok("data", "--threads", "1", "--images", "20", "--sizes", "16", "--decode-threads", "1,2", "--batch", "8",
                "--memory-sizes", "30", "--work", tmp.resolve("work").toString(), "--json", file.toString());
        assertTrue(r.out().contains("decode img/s") && r.out().contains("memory: 30 images"), r.out());
        JsonNode doc = json(file);
        assertEquals(4, doc.get("decode").size(), doc.toString()); // 1 size x 2 formats x 2 thread counts
        assertTrue(doc.get("decode").get(0).get("decode_images_per_s").asDouble() > 0, doc.toString());
        assertEquals(30, doc.get("memory").get(0).get("images").asInt(), doc.toString());
    }
}
