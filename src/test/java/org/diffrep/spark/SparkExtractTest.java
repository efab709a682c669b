package org.diffrep.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.diffrep.InvalidInputException;
import org.diffrep.cli.CliRun;
import org.diffrep.cli.Main;
import org.diffrep.data.DataSpec;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.InputMode;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spark in local mode (local[2,2]: two task slots, a failed task retried once): SparkExtract over 2,000
 * builtin:mnist digits in 4 partitions writes the store diffrep extract writes, every file byte for byte with
 * the manifest; so it does when attempt 0 of partition 2 dies after its first shard; the DiffrepFeatures
 * transformer's columns are the store's features, from PNG bytes and from pixel arrays.
 */
class SparkExtractTest {

    static final int IMAGES = 2000;
    @TempDir
    static Path tmp;
    static Path model;
    static Path whole;
    static SparkSession spark;
    static JavaSparkContext sc;

    /** The settings of every run here: clean input, two taps, two noise levels, cut so partitions start mid-forward. */
    static List<String> args(Path out) {
        return List.of("--model", model.toString(), "--data", "builtin:mnist", "--limit", String.valueOf(IMAGES),
                "--layers", "enc.0,enc.1", "--sigmas", "0.1,1", "--batch", "64", "--forward-rows", "48",
                "--shard-size", "256", "--seed", "3", "--out", out.toString());
    }

    static ExtractConfig config(Path out) {
        return ExtractConfig.builder().model(model).data("builtin:mnist").limit(IMAGES).layers(List.of("enc.0", "enc.1"))
                .sigmas(0.1f, 1f).batch(64).forwardRows(48).shardSize(256).seed(3).input(InputMode.CLEAN).out(out)
                .build();
    }

    @BeforeAll
    static void setUp() throws IOException {
        // one thread, as each local[2] task gets (spark.task.cpus = 1): the reference rounds as the tasks do
        Threads.set(1);
        MlpDenoiser.Config c = new MlpDenoiser.Config(new long[]{1, 28, 28}, 2, 48, "silu", "sinusoidal", 16,
                Parametrisation.EDM);
        NetworkDenoiser m = ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(c)), 1234);
        model = tmp.resolve("mlp.safetensors");
        ModelFiles.save(m, model, Map.of("test", "SparkExtractTest"));
        whole = tmp.resolve("whole");
        List<String> a = new ArrayList<>(List.of("--threads", "1", "extract"));
        a.addAll(args(whole));
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        spark = SparkSession.builder().master("local[2,2]").appName("SparkExtractTest")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
        sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void fourPartitionsOnSparkAreByteIdenticalToOneProcess() throws IOException {
        Path out = tmp.resolve("spark4");
        SparkExtraction.Summary sum = SparkExtraction.run(sc, config(out), 4, null);
        assertEquals(List.of(), differingFiles(whole, out), "every file, manifest.json included");
        assertEquals(4, sum.parts().size());
        assertEquals(IMAGES, sum.parts().stream().mapToLong(SparkExtraction.Part::images).sum());
        assertFalse(Files.exists(PartitionTask.partsDir(out)), "the parts are removed after the merge");
        assertEquals(IMAGES, FeatureStore.open(out).count());
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndTheStoreIsStillIdentical() throws IOException {
        Path out = tmp.resolve("spark-retry");
        System.setProperty(PartitionTask.FAIL_PROPERTY, "2");
        SparkExtraction.Summary sum;
        try {
            sum = SparkExtraction.run(sc, config(out), 4, null);
        } finally {
            System.clearProperty(PartitionTask.FAIL_PROPERTY);
        }
        SparkExtraction.Part two = sum.parts().get(2);
        assertEquals(2, two.index());
        assertEquals(1, two.attempt(), "attempt 0 failed after its first shard; attempt 1 wrote the part");
        assertEquals(List.of(), differingFiles(whole, out));
        assertFalse(Files.exists(PartitionTask.partsDir(out)), "the failed attempt's half part is gone too");
    }

    @Test
    void resumeKeepsFinishedPartsAndContinuesAnUnfinishedAttempt() throws IOException {
        Path out = tmp.resolve("spark-resume").toAbsolutePath();
        ExtractConfig cfg = config(out);
        TaskSpec spec = TaskSpec.of(cfg, org.diffrep.extract.Extractor.fileId(model));
        // what a driver that died mid-job leaves: parts 0 and 1 renamed into place, attempt 0 of part 2 with
        // one of its two shards, nothing of part 3 (the tasks run here without Spark, as attempt 0)
        PartitionTask.run(spec, 0, 4);
        PartitionTask.run(spec, 1, 4);
        System.setProperty(PartitionTask.FAIL_PROPERTY, "2");
        try {
            assertThrows(IllegalStateException.class, () -> PartitionTask.run(spec, 2, 4));
        } finally {
            System.clearProperty(PartitionTask.FAIL_PROPERTY);
        }
        assertTrue(Files.isDirectory(PartitionTask.partsDir(out).resolve("part-2.attempt-0.tmp")));

        SparkExtraction.Summary sum = SparkExtraction.run(sc, cfg.toBuilder().resume(true).build(), 4, null);
        assertEquals(List.of(0L, 0L, 500L - 256L, 500L), sum.parts().stream().map(SparkExtraction.Part::images).toList(),
                "images computed by each task: parts 0 and 1 kept, part 2 from its second shard, part 3 whole: "
                        + sum.parts());
        assertEquals(List.of(), differingFiles(whole, out));
    }

    @Test
    void transformerColumnsAreTheStoresFeatures() {
        int n = 300;
        org.diffrep.data.Dataset mnist = DataSpec.open("builtin:mnist");
        long[] idx = new long[n];
        Arrays.setAll(idx, i -> i);
        float[] x = Tensors.toFloats(mnist.batch(idx).images());
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] px = Arrays.copyOfRange(x, i * 784, (i + 1) * 784);
            rows.add(RowFactory.create((long) i, png(px), px));
        }
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.LongType, false),
                DataTypes.createStructField("image", DataTypes.BinaryType, false),
                DataTypes.createStructField("pixels", DataTypes.createArrayType(DataTypes.FloatType, false), false)));
        // one partition holding the store's first rows in order; batches of 50, not the store's 64
        Dataset<Row> df = spark.createDataFrame(sc.parallelize(rows, 1), schema);
        FeatureStore store = FeatureStore.open(whole);
        for (String col : List.of("image", "pixels")) {
            DiffrepFeatures t = new DiffrepFeatures().setModelPath(model.toString()).setInputCol(col)
                    .setLayers("enc.0", "enc.1").setSigmas(0.1, 1).setBatchSize(50).setForwardRows(48)
                    .setOutputPrefix("f");
            // mapPartitions keeps the rows' order within the one partition
            List<Row> got = t.transform(df).collectAsList();
            assertEquals(n, got.size());
            for (int i = 0; i < n; i++) {
                assertEquals(i, got.get(i).getLong(0));
            }
            for (String layer : List.of("enc.0", "enc.1")) {
                for (int j = 0; j < 2; j++) {
                    float[][] expected = store.features(layer, j);
                    String name = t.columnName(layer, j);
                    assertEquals("f_" + layer.replace('.', '_') + "_s" + j, name);
                    for (int i = 0; i < n; i++) {
                        List<Float> v = got.get(i).getList(got.get(i).fieldIndex(name));
                        float[] f = new float[v.size()];
                        for (int k = 0; k < f.length; k++) {
                            f[k] = v.get(k);
                        }
                        assertArrayEquals(expected[i], f, col + " " + name + " row " + i);
                    }
                }
            }
        }
    }

    /** Noisy input: the noise is keyed by the id column (the dataset index), as the store keys it. */
    @Test
    void transformerWithNoisyInputKeysTheNoiseByTheIdColumn() {
        int n = 96;
        Path noisy = tmp.resolve("noisy");
        ExtractConfig cfg = config(noisy).toBuilder().input(InputMode.NOISY).limit(n).build();
        new org.diffrep.extract.Extractor(cfg).log(null).run();
        org.diffrep.data.Dataset mnist = DataSpec.open("builtin:mnist");
        long[] idx = new long[n];
        Arrays.setAll(idx, i -> i);
        float[] x = Tensors.toFloats(mnist.batch(idx).images());
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(RowFactory.create((long) i, Arrays.copyOfRange(x, i * 784, (i + 1) * 784)));
        }
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.LongType, false),
                DataTypes.createStructField("pixels", DataTypes.createArrayType(DataTypes.FloatType, false), false)));
        Dataset<Row> df = spark.createDataFrame(sc.parallelize(rows, 1), schema);
        DiffrepFeatures t = new DiffrepFeatures().setModelPath(model.toString()).setInputCol("pixels")
                .setInput("noisy").setIdCol("id").setSeed(3).setLayers("enc.1").setSigmas(0.1, 1).setForwardRows(48);
        List<Row> got = t.transform(df).collectAsList();
        FeatureStore store = FeatureStore.open(noisy);
        for (int j = 0; j < 2; j++) {
            float[][] expected = store.features("enc.1", j);
            int col = got.get(0).fieldIndex(t.columnName("enc.1", j));
            for (int i = 0; i < n; i++) {
                List<Float> v = got.get(i).getList(col);
                float[] f = new float[v.size()];
                for (int k = 0; k < f.length; k++) {
                    f[k] = v.get(k);
                }
                assertArrayEquals(expected[i], f, "sigma " + j + " row " + i);
            }
        }
        // without an id column noisy input is refused, naming both parameters
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new DiffrepFeatures().setModelPath(model.toString()).setInput("noisy").config());
        assertEquals(List.of("input", "idCol"), e.fields(), e.getMessage());
    }

    @Test
    void transformerIsSavedAndLoadedWithItsParameters() throws IOException {
        DiffrepFeatures t = new DiffrepFeatures().setModelPath(model.toString()).setLayers("enc.1").setSigmas(0.5, 2)
                .setBatchSize(16).setOutputPrefix("g");
        Path dir = tmp.resolve("saved-transformer");
        t.write().save(dir.toString());
        DiffrepFeatures back = DiffrepFeatures.load(dir.toString());
        assertEquals(t.uid(), back.uid());
        assertEquals(model.toString(), back.getOrDefault(back.modelPath()));
        assertArrayEquals(new String[]{"enc.1"}, back.getOrDefault(back.layers()));
        assertArrayEquals(new double[]{0.5, 2}, back.getOrDefault(back.sigmas()));
        assertEquals(16, (Integer) back.getOrDefault(back.batchSize()));
        assertEquals("g_enc_1_s1", back.columnName("enc.1", 1));
        // a bad setting is refused naming the parameter
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new DiffrepFeatures().setModelPath(model.toString()).setPool("mean+max").config());
        assertEquals(List.of("pool"), e.fields(), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> new DiffrepFeatures().config());
        assertEquals(List.of("modelPath"), e.fields(), e.getMessage());
    }

    @Test
    void badInputIsRefusedOnTheDriverNamingTheField() throws IOException {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> SparkExtraction.run(sc, config(tmp.resolve("too-many")), IMAGES + 1, null));
        assertEquals(List.of("partitions"), e.fields(), e.getMessage());
        assertTrue(e.getMessage().contains("exceeds the 2000 selected images"), e.getMessage());

        Path full = tmp.resolve("full");
        Files.createDirectories(full);
        Files.writeString(full.resolve("x"), "x");
        e = assertThrows(InvalidInputException.class, () -> SparkExtraction.run(sc, config(full), 2, null));
        assertEquals(List.of("out"), e.fields(), e.getMessage());

        // the parts of an earlier run are never mixed into a new one: resume or remove them
        Path stale = tmp.resolve("stale");
        Files.createDirectories(PartitionTask.partsDir(stale).resolve("part-0"));
        e = assertThrows(InvalidInputException.class, () -> SparkExtraction.run(sc, config(stale), 2, null));
        assertEquals(List.of("out"), e.fields(), e.getMessage());
        assertTrue(e.getMessage().contains("holds the parts of an earlier run"), e.getMessage());

        e = assertThrows(InvalidInputException.class, () -> SparkExtraction.run(sc,
                config(tmp.resolve("bad-layer")).toBuilder().layers(List.of("nope")).build(), 2, null));
        assertEquals(List.of("layers"), e.fields(), e.getMessage());

        // the command line: exit 2, one line naming the flag (checked before Spark starts)
        List<String> a = new ArrayList<>(args(tmp.resolve("cli")));
        a.set(a.indexOf("--batch") + 1, "0");
        a.addAll(List.of("--partitions", "2"));
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.runCommand(new SparkExtract(), a.toArray(String[]::new));
        } finally {
            System.setErr(old);
        }
        String msg = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, msg);
        assertTrue(msg.contains("--batch must be >= 1, got 0"), msg);
        assertFalse(msg.contains("\tat "), "no stack trace: " + msg);

        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, Main.runCommand(new SparkExtract(), "--version"));
        } finally {
            System.setOut(oldOut);
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("diffrep "), out.toString(StandardCharsets.UTF_8));
    }

    /** A grey PNG of 28x28 values in [-1, 1] (exact: MNIST's bytes, which k/127.5 - 1 gives back). */
    static byte[] png(float[] px) {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 784; i++) {
            int v = Math.round((px[i] + 1f) * 127.5f);
            img.getRaster().setSample(i % 28, i / 28, 0, v);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", b);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    static List<String> differingFiles(Path a, Path b) throws IOException {
        List<String> fa = files(a), fb = files(b), out = new ArrayList<>();
        if (!fa.equals(fb)) {
            out.add("file lists: " + fa + " vs " + fb);
        }
        for (String f : fa) {
            if (fb.contains(f) && !Arrays.equals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)))) {
                out.add(f);
            }
        }
        return out;
    }

    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> w = Files.walk(dir)) {
            return w.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
