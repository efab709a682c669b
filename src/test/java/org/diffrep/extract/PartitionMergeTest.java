package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.cli.CliRun;
import org.diffrep.io.AtomicFiles;
import org.diffrep.model.NetworkDenoiser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * extract --partition I/N and store merge: 200 images extracted whole and as 3 uneven partitions
 * (66, 67, 67 images; partition 1 starts at global row 198, inside a forward of 32 rows) merged give
 * the same bytes, manifest included; merge refuses bad parts with exit 2, naming the part and field.
 */
class PartitionMergeTest {

    static NetworkDenoiser model;
    @TempDir
    static Path tmp;
    static Path whole;
    static final List<Path> parts = new ArrayList<>();

    static ExtractConfig.Builder config(Path out) {
        // noisy input, mean+max and top-k: every kind of file; shards of 64 cut partitions 1 and 2 in two
        return ExtractFixture.config(out).layers(List.of("enc.0", "enc.1")).input(InputMode.NOISY)
                .pool(Pooling.MEAN_MAX).topk(8);
    }

    @BeforeAll
    static void setUp() {
        org.diffrep.ops.Threads.set(2);
        model = ExtractFixture.mlp();
        whole = tmp.resolve("whole");
        ExtractFixture.run(config(whole).build(), model);
        for (int i = 0; i < 3; i++) {
            Path p = tmp.resolve("part" + i);
            ExtractFixture.run(config(p).partition(i, 3).build(), model);
            parts.add(p);
        }
    }

    @Test
    void threePartitionsMergedAreByteIdenticalToOneRun() throws IOException {
        Path merged = tmp.resolve("merged");
        // any order of the parts
        StoreMerge.merge(List.of(parts.get(2), parts.get(0), parts.get(1)), merged);
        for (String under : List.of("features", "labels", "split", "indices", "topk")) {
            assertEquals(List.of(), ExtractFixture.differingFiles(whole, merged, under), under);
        }
        assertEquals(Files.readString(whole.resolve(StoreLayout.MANIFEST)),
                Files.readString(merged.resolve(StoreLayout.MANIFEST)), "the merged manifest is the one-process one");
        assertEquals(ExtractFixture.files(whole), ExtractFixture.files(merged));
        assertFalse(Files.exists(AtomicFiles.tempOf(merged.toAbsolutePath())), "no temp directory left");
        assertEquals(200, FeatureStore.open(merged).count());
    }

    /** The UNet, whose convolution and GEMM kernels round by a row's position in a forward: the parts keep it. */
    @Test
    void unetPartitionsMergedAreByteIdenticalToOneRun() throws IOException {
        NetworkDenoiser unet = ExtractFixture.unet();
        Path one = tmp.resolve("unet-whole");
        ExtractFixture.run(unetConfig(one).build(), unet);
        List<Path> unetParts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path p = tmp.resolve("unet-part" + i);
            ExtractFixture.run(unetConfig(p).partition(i, 3).build(), unet);
            unetParts.add(p);
        }
        Path merged = tmp.resolve("unet-merged");
        StoreMerge.merge(unetParts, merged);
        assertEquals(List.of(), ExtractFixture.differingFiles(one, merged, ""));
    }

    private static ExtractConfig.Builder unetConfig(Path out) {
        // 40 images: parts of 13, 13, 14; part 1 starts at global row 39, inside a forward of 32 rows
        return ExtractFixture.config(out).layers(List.of("mid")).limit(40).batch(8).shardSize(16).topk(4);
    }

    @Test
    void partialStoreRecordsItsPartitionAndIsRefusedForAnalyses() throws IOException {
        StoreSettings.PartitionRange[] expected = {
                new StoreSettings.PartitionRange(0, 3, 0, 200),
                new StoreSettings.PartitionRange(1, 3, 66, 200),
                new StoreSettings.PartitionRange(2, 3, 133, 200)};
        long[] counts = {66, 67, 67};
        for (int i = 0; i < 3; i++) {
            StoreManifest m = StoreWriter.readManifest(parts.get(i).resolve(StoreLayout.MANIFEST));
            assertEquals(expected[i], m.settings().partition());
            assertEquals(counts[i], m.settings().count());
            assertTrue(m.complete());
        }
        String manifest = Files.readString(parts.get(1).resolve(StoreLayout.MANIFEST));
        assertTrue(manifest.contains("\"partition\" : {"), manifest);
        assertFalse(Files.readString(whole.resolve(StoreLayout.MANIFEST)).contains("partition"),
                "a whole store's manifest has no partition field");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> FeatureStore.open(parts.get(1)));
        assertTrue(e.getMessage().contains("partial store (partition 1/3, images 66..132 of 200)"), e.getMessage());
        assertTrue(e.getMessage().contains("diffrep store merge"), e.getMessage());
        // the probe command says the same, exit 2
        CliRun r = cli("probe", "--features", parts.get(1).toString(), "--layer", "enc.0", "--out", tmp.resolve("pr").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("merge the 3 parts first with diffrep store merge"), r.err());
    }

    @Test
    void partialStoreStoppedAfterAShardResumesToTheSameBytes() throws IOException {
        Path p = tmp.resolve("part1-killed");
        ExtractConfig cfg = config(p).partition(1, 3).build();
        RuntimeException stop = new RuntimeException("stop");
        RuntimeException got = assertThrows(RuntimeException.class, () -> new Extractor(cfg).log(null)
                .listener(new Extractor.Listener() {
                    @Override
                    public void afterShard(int shard) {
                        throw stop;
                    }
                }).run(model, "mlp-seed-1234", ExtractFixture.mnist()));
        assertEquals(stop, got);
        assertFalse(StoreWriter.readManifest(p.resolve(StoreLayout.MANIFEST)).complete());
        CliRun r = cli("store", "merge", parts.get(0).toString(), p.toString(), parts.get(2).toString(),
                "--out", tmp.resolve("m-incomplete").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(p + ": field complete is false: partition 1/3 is incomplete"), r.err());
        assertFalse(Files.exists(tmp.resolve("m-incomplete")));

        ExtractFixture.run(config(p).partition(1, 3).resume(true).build(), model);
        for (String under : List.of("features", "labels", "split", "indices", "topk", "manifest.json")) {
            assertEquals(List.of(), ExtractFixture.differingFiles(parts.get(1), p, under), under);
        }
        // another partition of the same directory is refused on resume
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ExtractFixture.run(config(p).partition(2, 3).resume(true).build(), model));
        assertTrue(e.getMessage().contains("partition: stored 1/3 (first rank 66 of 200), requested 2/3"),
                e.getMessage());
    }

    @Test
    void mergeRefusesMismatchedSettingsMissingAndDuplicatePartitionsWithExit2() {
        Path seed8 = tmp.resolve("part1-seed8");
        ExtractFixture.run(config(seed8).partition(1, 3).seed(8).build(), model);
        Path out = tmp.resolve("m-bad");

        CliRun r = cli("store", "merge", parts.get(0).toString(), seed8.toString(), parts.get(2).toString(),
                "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(seed8 + ": settings differ from " + parts.get(0)), r.err());
        assertTrue(r.err().contains("settings.seed: " + parts.get(0) + " has 7, " + seed8 + " has 8"), r.err());

        r = cli("store", "merge", parts.get(0).toString(), parts.get(2).toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("partition 1/3 of the run missing"), r.err());

        r = cli("store", "merge", parts.get(0).toString(), parts.get(1).toString(), parts.get(1).toString(),
                parts.get(2).toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("partition 1/3 is given twice"), r.err());

        r = cli("store", "merge", whole.toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(whole + ": field settings.partition is missing"), r.err());
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void mergeThroughTheCommandLine() throws IOException {
        Path out = tmp.resolve("m-cli");
        CliRun r = cli("store", "merge", parts.get(0).toString(), parts.get(1).toString(), parts.get(2).toString(),
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(), ExtractFixture.differingFiles(whole, out, ""));
    }

    @Test
    void partitionIsValidated() {
        for (int[] bad : new int[][]{{3, 3}, {-1, 3}, {0, 0}}) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> config(tmp.resolve("x")).partition(bad[0], bad[1]).build());
            assertEquals(List.of("partition"), e.fields(), e.getMessage());
        }
        assertEquals(new Partition(2, 5), Partition.parse("2/5"));
        assertThrows(InvalidInputException.class, () -> Partition.parse("2of5"));
        assertArrayEquals(new long[]{0, 66, 133, 200}, new long[]{new Partition(0, 3).first(200),
                new Partition(1, 3).first(200), new Partition(2, 3).first(200), new Partition(2, 3).end(200)});
        // more partitions than images: the empty one is refused
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ExtractFixture.run(config(tmp.resolve("empty")).limit(2).partition(0, 3).build(), model));
        assertTrue(e.getMessage().contains("0/3 of 2 selected images is empty"), e.getMessage());

        CliRun r = cli("extract", "--model", tmp.resolve("none.safetensors").toString(), "--data", "builtin:mnist",
                "--out", tmp.resolve("y").toString(), "--partition", "3/3");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--partition: expected I/N with 0 <= I < N, got 3/3"), r.err());
    }

    static CliRun cli(String... args) {
        return CliRun.of(args);
    }
}
