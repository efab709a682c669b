package org.diffrep.cli;

import org.diffrep.extract.StoreConsistencyTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile data and stores through the command line (issue 13): exit code 2, one line on stderr naming the file
 * or option, no Java or LibTorch stack trace, and no output files from a run that fails its up-front checks.
 */
class HostileInputCommandsTest {

    @TempDir
    Path tmp;

    /** Runs the command line; returns stderr after checking the exit code and that stderr is one clean line. */
    private static String fails(String... args) {
        CliRun r = CliRun.of(args);
        int rc = r.code();
        String text = r.err();
        assertEquals(2, rc, text);
        assertEquals(1, text.strip().lines().count(), text);
        assertFalse(text.contains("Exception") || text.contains("\tat ") || text.contains("frame #")
                || text.contains("DIFFREP_DEBUG"), text);
        return text;
    }

    private static void assertMentions(String text, String... fragments) {
        for (String f : fragments) {
            assertTrue(text.contains(f), "'" + f + "' missing from: " + text);
        }
    }

    @Test
    void dataBombAndAbsurdGeneratorSizesExitTwo() throws IOException {
        Path d = Files.createDirectories(tmp.resolve("bomb"));
        try (GZIPOutputStream g = new GZIPOutputStream(Files.newOutputStream(d.resolve("train-images-idx3-ubyte.gz")))) {
            g.write(ByteBuffer.allocate(16 + 8).putInt(0x803).putInt(2).putInt(2).putInt(2).array());
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                g.write(zeros);
            }
        }
        Files.write(d.resolve("train-labels-idx1-ubyte"), ByteBuffer.allocate(10).putInt(0x801).putInt(2).array());
        assertMentions(fails("data", "--data", "idx:" + d), "train-images-idx3-ubyte.gz", "trailing data");
        assertMentions(fails("data", "--data", "molrg:n=100000,samples=100000"), "molrg field n", "1..16384");
        assertMentions(fails("data", "--data", "molrg:samples=99999999999"), "molrg field samples", "99999999999");
    }

    @Test
    void sigmaGridTooLongExitsTwoBeforeAnyWork() {
        assertMentions(fails("extract", "--model", tmp.resolve("none.safetensors").toString(), "--data",
                        "molrg:samples=10", "--sigmas", "log:0.1,1,100000000", "--out", tmp.resolve("x").toString()),
                "--sigmas log:0.1,1,100000000", "at most 1000");
        assertFalse(Files.exists(tmp.resolve("x")));
    }

    @Test
    void probeRefusesBadStoresWithExitTwo() throws IOException {
        Path nan = StoreConsistencyTest.store(tmp.resolve("nan"), p -> p.features[3 * StoreConsistencyTest.C + 1] = Float.NaN);
        assertMentions(fails("--threads", "1", "probe", "--features", nan.toString(), "--out", tmp.resolve("o1").toString()),
                "features/mid/sigma_0.npy", "row 3, column 1", "NaN");
        Path wrap = StoreConsistencyTest.store(tmp.resolve("wrap"), p -> p.labels[5] = (1L << 32) + 5);
        assertMentions(fails("probe", "--features", wrap.toString(), "--out", tmp.resolve("o2").toString()),
                "labels.npy", "row 5", "4294967301");
        Path rows = StoreConsistencyTest.store(tmp.resolve("rows"), p -> {
            p.featureRows = 10;
            p.features = new float[10 * StoreConsistencyTest.C];
        });
        // Used to end in LibTorch's "index out of range in self" with its C++ stack trace and exit 1.
        assertMentions(fails("probe", "--features", rows.toString(), "--out", tmp.resolve("o3").toString()),
                "features/mid/sigma_0.npy", "expected 12 rows");
        for (String o : new String[]{"o1", "o2", "o3"}) {
            Path dir = tmp.resolve(o);
            // --out is created up front (so an unwritable one fails before the work); nothing is written into it.
            assertTrue(!Files.exists(dir) || Files.list(dir).findAny().isEmpty(), o);
        }
    }

    @Test
    void outputThatIsAFileIsRefusedBeforeTheWork() throws IOException {
        Path store = StoreConsistencyTest.store(tmp.resolve("store"), p -> { });
        Path file = Files.writeString(tmp.resolve("taken"), "x");
        for (String[] cmd : new String[][]{
                {"probe", "--features", store.toString()},
                {"sparsity", "--features", store.toString(), "--layer", "mid"},
                {"compare", "--features", store.toString(), "--features", store.toString(), "--layer", "mid"},
                {"cluster", "--features", store.toString(), "--layer", "mid", "--sigma", "0.1", "--k", "2"}}) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 2);
            args[cmd.length] = "--out";
            args[cmd.length + 1] = file.toString();
            assertMentions(fails(args), "--out " + file, "exists and is not a directory");
        }
    }

    @Test
    void neighboursAndClusterCheckTheDatasetAgainstTheStoreBeforeWriting() throws IOException {
        Path store = StoreConsistencyTest.store(tmp.resolve("store"), p -> { });
        Path out = tmp.resolve("nb");
        assertMentions(fails("neighbours", "--features", store.toString(), "--layer", "mid", "--sigma", "0.1",
                        "--query", "0", "--k", "2", "--data", "molrg:samples=6", "--out", out.toString()),
                "--data molrg:samples=6", "store row 6 is dataset index 6", "6 samples", "molrg:samples=12");
        assertFalse(Files.exists(out), "nothing written");
        assertMentions(fails("neighbours", "--features", store.toString(), "--layer", "mid", "--sigma", "0.1",
                        "--query", "0", "--k", "2", "--data", "molrg:samples=12,seed=3", "--out", out.toString()),
                "store rows have another label in the dataset");
        assertFalse(Files.exists(out), "nothing written");
        Path cl = tmp.resolve("cl");
        assertMentions(fails("cluster", "--features", store.toString(), "--layer", "mid", "--sigma", "0.1", "--k", "2",
                "--data", "molrg:samples=6", "--out", cl.toString()), "store row 6 is dataset index 6");
        assertFalse(Files.exists(cl), "nothing written");
    }
}
