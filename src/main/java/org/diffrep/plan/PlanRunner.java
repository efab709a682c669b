package org.diffrep.plan;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.analysis.ChannelSparsity;
import org.diffrep.analysis.ClusterAnalysis;
import org.diffrep.analysis.KMeansConfig;
import org.diffrep.analysis.SparsityAnalysis;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.data.Split;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.extract.StoreLayout;
import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Hashes;
import org.diffrep.io.Json;
import org.diffrep.model.BuiltinModels;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.ModelSize;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.UNet;
import org.diffrep.ops.Threads;
import org.diffrep.sae.SaeConfig;
import org.diffrep.sae.SaeFeatures;
import org.diffrep.sae.SaeTrainer;
import org.diffrep.sae.SaeTraining;
import org.diffrep.study.PixelBaseline;
import org.diffrep.study.ProbeStudy;
import org.diffrep.study.ProbeStudyReport;
import org.diffrep.train.DatasetImages;
import org.diffrep.train.Trainer;
import org.diffrep.train.TrainingProgress;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a {@link Plan}: trains the models that come as recipes, then each cell's stages (feature
 * store, pixel baseline of its dataset, probe study), each cached under {@code out} by the hash of
 * what it depends on ({@link StageKeys}):
 *
 * <pre>
 * out/models/NAME-KEY.safetensors   trained by recipe (a checkpoint beside it while training)
 * out/stores/KEY/                   feature stores (resumed shard by shard when a run was killed)
 * out/baselines/KEY.json            linear probe on raw pixels per dataset selection
 * out/probes/KEY/                   result.json (what the report reads), probe.json, accuracy_vs_sigma.png/.svg
 * out/analyses/KEY/                 k-means of a tap at its peak sigma (with analyses.cluster): cluster.json, ...;
 *                                   or its channel sparsity (analyses.sparsity): sparsity.json, active_counts.npy, figures;
 *                                   or a TopK SAE trained on it (analyses.sae): sae.safetensors, sae.safetensors.metrics.json
 * </pre>
 *
 * A finished stage is never computed again; a cell whose stage fails is reported with its error and
 * the other cells go on. Cells run {@code jobs} at a time, the threads split between them.
 */
public final class PlanRunner {

    /** The kinds of stage, in the order a cell runs them. */
    public enum StageKind { TRAIN, EXTRACT, BASELINE, PROBE, CLUSTER, SPARSITY, SAE }

    /** A stage of a run: computed, or found in the cache. */
    public record Stage(StageKind kind, String subject, String key, boolean cached) {
    }

    /** Hooks on the threads that run the stages; tests use them to fail or stop a run at a chosen point. */
    public interface Listener {
        /** Before a stage is computed (not called for cached stages). */
        default void beforeStage(Stage stage) {
        }

        /** After shard {@code shard} of the store of {@code stage} was renamed into place. */
        default void afterShard(Stage stage, int shard) {
        }
    }

    /**
     * How a cell ended. {@code error} is null when it finished; {@code baseline} is null when not computed;
     * {@code clusters} (tap -> k-means at its peak sigma) is empty without {@code analyses.cluster}, and so are
     * {@code sparsity} and {@code saes} without {@code analyses.sparsity} and {@code analyses.sae}.
     */
    public record CellOutcome(Plan.Cell cell, String storeKey, String probeKey, CellResult result, Double baseline,
                              Map<String, ClusterScore> clusters, Map<String, SparsityScore> sparsity,
                              Map<String, SaeScore> saes, String error) {
        public boolean ok() {
            return error == null;
        }
    }

    /** What a run did: every cell's outcome and every stage, computed or cached. */
    public record Result(Path out, List<CellOutcome> cells, List<Stage> stages, double seconds) {
        public long failed() {
            return cells.stream().filter(c -> !c.ok()).count();
        }

        /** Stages of {@code kind} that were computed in this run. */
        public long computed(StageKind kind) {
            return stages.stream().filter(s -> s.kind() == kind && !s.cached()).count();
        }

        public long cached(StageKind kind) {
            return stages.stream().filter(s -> s.kind() == kind && s.cached()).count();
        }
    }

    /** k-means on one tap at its peak sigma, scored against the labels; {@code json}: its cluster.json under out. */
    public record ClusterScore(double sigma, int k, double purity, double nmi, double ari, String json) {
    }

    /**
     * Channel sparsity of one tap at its peak sigma: mean active channels per image and the mean Jaccard overlap
     * of active sets within and between classes; {@code json}: its sparsity.json under out.
     */
    public record SparsityScore(double sigma, double meanActive, double withinOverlap, double betweenOverlap,
                                String json) {
    }

    /**
     * A TopK SAE trained on one tap at its peak sigma: FVU on the test rows (null when the store has none) and
     * the share of latents never active on the train rows; {@code file}: the SAE under out.
     */
    public record SaeScore(double sigma, int latents, int k, Double testFvu, double trainFvu, double deadFraction,
                           String file) {
    }

    /** A cell before a run: its store key (null while its model is still to be trained) and which stages are cached. */
    public record Planned(Plan.Cell cell, String storeKey, String storeState, boolean probeCached) {
    }

    private final Plan plan;
    private int jobs = 1;
    private PrintStream log = System.err;
    private Listener listener = new Listener() {
    };
    private final List<Stage> stages = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public PlanRunner(Plan plan) {
        this.plan = plan;
    }

    /** Cells run side by side (default 1); the threads are split between them. */
    public PlanRunner jobs(int n) {
        if (n < 1) {
            throw InvalidInputException.field("jobs", "must be >= 1, got " + n);
        }
        this.jobs = n;
        return this;
    }

    /** Where progress lines go (default stderr); null for silence. */
    public PlanRunner log(PrintStream out) {
        this.log = out;
        return this;
    }

    public PlanRunner listener(Listener l) {
        this.listener = l;
        return this;
    }

    /** Each cell with its cache state, computing nothing (model files are hashed). */
    public List<Planned> dryRun() {
        Map<String, String> modelIds = new LinkedHashMap<>();
        for (Plan.ModelSource m : plan.models().values()) {
            Path f = m.file() != null ? m.file() : trainedFile(m);
            modelIds.put(m.name(), BuiltinModels.isBuiltin(f) || Files.isRegularFile(f) ? fileId(f) : null);
        }
        List<Planned> out = new ArrayList<>();
        for (Plan.Cell c : plan.cells()) {
            String id = modelIds.get(c.model());
            if (id == null) {
                out.add(new Planned(c, null, "model to train", false));
                continue;
            }
            String sk = StageKeys.store(c, id);
            Path dir = storeDir(sk);
            String state = storeComplete(dir) ? "cached" : Files.exists(dir.resolve(StoreLayout.MANIFEST)) ? "partial" : "to compute";
            boolean probe = Files.isRegularFile(probeDir(StageKeys.probe(sk, c.probe())).resolve("result.json"));
            out.add(new Planned(c, sk, state, probe));
        }
        return out;
    }

    /** Runs every stage that is not cached, then writes the summary and the report. */
    public Result run() {
        long t0 = System.nanoTime();
        preflight();
        Map<String, Path> modelFiles = new LinkedHashMap<>();
        Map<String, String> modelErrors = new LinkedHashMap<>();
        for (Plan.ModelSource m : plan.models().values()) {
            if (m.file() != null) {
                modelFiles.put(m.name(), m.file());
                continue;
            }
            try {
                modelFiles.put(m.name(), train(m));
            } catch (RuntimeException e) {
                modelErrors.put(m.name(), "training failed: " + message(e));
                say("plan: model %s: training failed: %s", m.name(), message(e));
            }
        }
        Map<String, String> modelIds = new ConcurrentHashMap<>();
        List<CellOutcome> outcomes = new ArrayList<>();
        int total = Math.max(1, Threads.torchThreads());
        int perJob = Math.max(1, total / jobs);
        if (jobs > 1) {
            Threads.set(perJob);
            say("plan: %d cells, %d at a time with %d thread(s) each", plan.cells().size(), jobs, perJob);
        }
        ExecutorService pool = Executors.newFixedThreadPool(jobs, r -> {
            Thread t = new Thread(r, "plan-cell");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<CellOutcome>> futures = new ArrayList<>();
            for (Plan.Cell c : plan.cells()) {
                futures.add(pool.submit(() -> {
                    if (modelErrors.containsKey(c.model())) {
                        return new CellOutcome(c, null, null, null, null, Map.of(), Map.of(), Map.of(),
                                modelErrors.get(c.model()));
                    }
                    return runCell(c, modelFiles.get(c.model()), modelIds);
                }));
            }
            for (Future<CellOutcome> f : futures) {
                outcomes.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            // an Error on a cell's thread (out of memory, a test's simulated kill): the run stops here
            Throwable cause = e.getCause();
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } finally {
            pool.shutdownNow();
            if (jobs > 1) {
                Threads.set(total);
            }
        }
        Result r = new Result(plan.out(), List.copyOf(outcomes), List.copyOf(stages), (System.nanoTime() - t0) / 1e9);
        PlanReport.write(plan, r);
        return r;
    }

    /** Datasets are opened once before any work, so that a missing file is a plan error (exit 2) and not n failed cells. */
    private void preflight() {
        for (Map.Entry<String, String> d : plan.data().entrySet()) {
            try {
                DataSpec.open(d.getValue());
            } catch (InvalidInputException e) {
                throw new InvalidInputException(plan.file() + ": data." + d.getKey() + ": " + e.getMessage(), e);
            } catch (UncheckedIOException e) {
                throw new InvalidInputException(plan.file() + ": data." + d.getKey() + ": " + d.getValue()
                        + ": cannot read: " + e.getCause().getMessage(), e);
            }
        }
        try {
            Files.createDirectories(plan.out());
        } catch (IOException e) {
            throw new InvalidInputException(plan.file() + ": out: " + plan.out() + ": cannot create: " + e.getMessage());
        }
    }

    private CellOutcome runCell(Plan.Cell c, Path modelFile, Map<String, String> modelIds) {
        String storeKey = null, probeKey = null;
        Double baseline = null;
        CellResult result = null;
        Map<String, ClusterScore> clusters = new LinkedHashMap<>();
        Map<String, SparsityScore> sparsity = new LinkedHashMap<>();
        Map<String, SaeScore> saes = new LinkedHashMap<>();
        try {
            String id = modelIds.computeIfAbsent(c.model(), k -> fileId(modelFile));
            storeKey = StageKeys.store(c, id);
            FeatureStore store = extract(c, modelFile, id, storeKey);
            if (plan.baseline()) {
                baseline = baseline(c, store);
            }
            probeKey = StageKeys.probe(storeKey, c.probe());
            result = probe(c, store, probeKey);
            if (plan.cluster() != null) {
                for (String layer : c.layers()) {
                    clusters.put(layer, cluster(c, store, storeKey, layer, result));
                }
            }
            if (plan.sparsity() != null) {
                for (String layer : c.layers()) {
                    sparsity.put(layer, sparsity(c, store, storeKey, layer, result));
                }
            }
            if (plan.sae() != null) {
                for (String layer : c.layers()) {
                    saes.put(layer, sae(c, store, storeKey, layer, result));
                }
            }
            return new CellOutcome(c, storeKey, probeKey, result, baseline, clusters, sparsity, saes, null);
        } catch (RuntimeException e) {
            say("plan: cell %s failed: %s", c.id(), message(e));
            return new CellOutcome(c, storeKey, probeKey, result, baseline, clusters, sparsity, saes, message(e));
        }
    }

    private FeatureStore extract(Plan.Cell c, Path modelFile, String modelId, String key) {
        Path dir = storeDir(key);
        synchronized (lock(key)) {
            if (storeComplete(dir)) {
                stages.add(new Stage(StageKind.EXTRACT, c.id(), key, true));
                return FeatureStore.open(dir);
            }
            Stage stage = new Stage(StageKind.EXTRACT, c.id(), key, false);
            listener.beforeStage(stage);
            say("plan: %s: extracting into %s", c.id(), dir);
            new Extractor(c.extract().toBuilder().model(modelFile).out(dir).resume(true).build())
                    .log(log)
                    .listener(new Extractor.Listener() {
                        @Override
                        public void afterShard(int shard) {
                            listener.afterShard(stage, shard);
                        }
                    })
                    .run();
            stages.add(stage);
            return FeatureStore.open(dir);
        }
    }

    private CellResult probe(Plan.Cell c, FeatureStore store, String key) {
        Path dir = probeDir(key);
        Path result = dir.resolve("result.json");
        synchronized (lock(key)) {
            if (Files.isRegularFile(result)) {
                stages.add(new Stage(StageKind.PROBE, c.id(), key, true));
                return read(result, CellResult.class);
            }
            Stage stage = new Stage(StageKind.PROBE, c.id(), key, false);
            listener.beforeStage(stage);
            say("plan: %s: probing (%s)", c.id(), c.probe().kind().id());
            ProbeStudy.Report report = ProbeStudy.run(store, c.layers(), c.probe(), null);
            createDirectories(dir);
            ProbeStudyReport.write(dir, "probe.json", "accuracy_vs_sigma", report,
                    List.of(new ProbeStudyReport.Titled(c.id(), report)));
            CellResult r = CellResult.of(report);
            Json.write(result, r); // last: its presence marks the stage done
            stages.add(stage);
            return r;
        }
    }

    /** k-means on {@code layer} at its peak sigma (the first label-noise level's), k = the plan's or the number of classes. */
    private ClusterScore cluster(Plan.Cell c, FeatureStore store, String storeKey, String layer, CellResult r) {
        CellResult.Curve curve = r.curve(layer, c.probe().labelNoise()[0]);
        int k = plan.cluster().k() != null ? plan.cluster().k() : r.numClasses();
        KMeansConfig cfg = plan.cluster().config().toBuilder().k(k).build();
        String key = StageKeys.cluster(storeKey, layer, curve.best(), cfg);
        Path dir = plan.out().resolve("analyses").resolve(StageKeys.shortKey(key));
        Path json = dir.resolve("cluster.json");
        synchronized (lock(key)) {
            if (Files.isRegularFile(json)) {
                stages.add(new Stage(StageKind.CLUSTER, c.id() + " " + layer, key, true));
            } else {
                Stage stage = new Stage(StageKind.CLUSTER, c.id() + " " + layer, key, false);
                listener.beforeStage(stage);
                say("plan: %s: k-means (k %d) on %s at sigma %.4g", c.id(), k, layer, curve.bestSigma());
                ClusterAnalysis.run(store, layer, curve.best(), cfg).write(dir); // cluster.json last
                stages.add(stage);
            }
            com.fasterxml.jackson.databind.JsonNode s = read(json, com.fasterxml.jackson.databind.JsonNode.class);
            return new ClusterScore(s.get("sigma").asDouble(), k, s.get("purity").asDouble(), s.get("nmi").asDouble(),
                    s.get("ari").asDouble(), "analyses/" + StageKeys.shortKey(key) + "/cluster.json");
        }
    }

    /**
     * Channel sparsity of {@code layer} at its peak sigma, as {@code diffrep sparsity} measures it at one sigma.
     * Written into a temporary directory renamed into place, so that sparsity.json marks a whole stage.
     */
    private SparsityScore sparsity(Plan.Cell c, FeatureStore store, String storeKey, String layer, CellResult r) {
        CellResult.Curve curve = r.curve(layer, c.probe().labelNoise()[0]);
        Plan.Sparsity cfg = plan.sparsity();
        String key = StageKeys.sparsity(storeKey, layer, curve.best(), cfg);
        Path dir = analysisDir(key);
        Path json = dir.resolve("sparsity.json");
        synchronized (lock(key)) {
            if (Files.isRegularFile(json)) {
                stages.add(new Stage(StageKind.SPARSITY, c.id() + " " + layer, key, true));
            } else {
                Stage stage = new Stage(StageKind.SPARSITY, c.id() + " " + layer, key, false);
                listener.beforeStage(stage);
                say("plan: %s: channel sparsity (%s) of %s at sigma %.4g", c.id(), cfg.rule().describe(), layer,
                        curve.bestSigma());
                float sigma = store.sigmas()[curve.best()];
                ChannelSparsity one = ChannelSparsity.measure(sigma, store.features(layer, curve.best()), store.labels(),
                        cfg.rule(), cfg.perClass(), cfg.seed());
                writeWhole(dir, tmp -> new SparsityAnalysis(store.dir().toString(), layer, cfg.rule(), List.of(one))
                        .write(tmp));
                stages.add(stage);
            }
            com.fasterxml.jackson.databind.JsonNode s = read(json, com.fasterxml.jackson.databind.JsonNode.class)
                    .get("per_sigma").get(0);
            return new SparsityScore(s.get("sigma").asDouble(), s.get("mean_active").asDouble(),
                    s.get("within_class_overlap").asDouble(), s.get("between_class_overlap").asDouble(),
                    "analyses/" + StageKeys.shortKey(key) + "/sparsity.json");
        }
    }

    /**
     * A TopK SAE trained on the train rows of {@code layer} at its peak sigma, as {@code diffrep sae train} does;
     * its metrics file, written after the SAE, marks the stage done.
     */
    private SaeScore sae(Plan.Cell c, FeatureStore store, String storeKey, String layer, CellResult r) {
        CellResult.Curve curve = r.curve(layer, c.probe().labelNoise()[0]);
        Path storeDir = store.dir();
        String key;
        Path file;
        // locked by store and tap, not by the stage key: the key needs the tap's width, read from the store here
        synchronized (lock(storeKey + " " + layer)) {
            try (PointerScope scope = new PointerScope()) {
                SaeFeatures in = SaeFeatures.open(storeDir, layer, null, curve.best());
                SaeConfig cfg = plan.sae().forWidth((int) in.features().size(1));
                key = StageKeys.sae(storeKey, layer, curve.best(), cfg);
                file = analysisDir(key).resolve("sae.safetensors");
                if (Files.isRegularFile(SaeTraining.metricsFile(file))) {
                    stages.add(new Stage(StageKind.SAE, c.id() + " " + layer, key, true));
                } else {
                    Stage stage = new Stage(StageKind.SAE, c.id() + " " + layer, key, false);
                    listener.beforeStage(stage);
                    say("plan: %s: TopK SAE (%d latents, k %d, %d steps) on %s at sigma %.4g", c.id(), cfg.latents(),
                            cfg.k(), cfg.steps(), layer, curve.bestSigma());
                    SaeTrainer.checkMemory(cfg, in.ids(true).length);
                    createDirectories(file.getParent());
                    SaeTraining.run(in, cfg, log == null ? nullStream() : log, Math.max(1, cfg.steps() / 10)).write(file);
                    stages.add(stage);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        com.fasterxml.jackson.databind.JsonNode m = read(SaeTraining.metricsFile(file),
                com.fasterxml.jackson.databind.JsonNode.class);
        com.fasterxml.jackson.databind.JsonNode test = m.get("test");
        return new SaeScore(curve.bestSigma(), m.get("config").get("latents").asInt(), m.get("config").get("k").asInt(),
                test == null || test.isNull() ? null : test.get("fvu").asDouble(), m.get("train").get("fvu").asDouble(),
                m.get("train").get("dead_fraction").asDouble(),
                "analyses/" + StageKeys.shortKey(key) + "/sae.safetensors");
    }

    private Path analysisDir(String key) {
        return plan.out().resolve("analyses").resolve(StageKeys.shortKey(key));
    }

    /** Writes a directory whole or not at all: into DIR.tmp (emptied first), then renamed onto {@code dir}. */
    private static void writeWhole(Path dir, java.util.function.Consumer<Path> writer) {
        try {
            Path tmp = AtomicFiles.tempOf(dir);
            AtomicFiles.deleteTree(tmp);
            createDirectories(tmp);
            writer.accept(tmp);
            createDirectories(dir.getParent());
            AtomicFiles.deleteTree(dir); // a leftover without its marker file
            AtomicFiles.moveInto(tmp, dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Linear probe (the plan's probe settings, clean labels) on the raw pixels of the store's images and split. */
    private double baseline(Plan.Cell c, FeatureStore store) {
        String key = StageKeys.baseline(c);
        Path file = plan.out().resolve("baselines").resolve(StageKeys.shortKey(key) + ".json");
        synchronized (lock(key)) {
            if (Files.isRegularFile(file)) {
                stages.add(new Stage(StageKind.BASELINE, c.data(), key, true));
                return read(file, Baseline.class).accuracy();
            }
            Stage stage = new Stage(StageKind.BASELINE, c.data(), key, false);
            listener.beforeStage(stage);
            say("plan: %s: pixel baseline", c.data());
            double acc = PixelBaseline.fit(store, DataSpec.open(c.extract().data()), c.probe()).accuracy();
            int rows = store.count();
            createDirectories(file.getParent());
            Json.write(file, new Baseline(c.extract().data(), rows, c.probe().kind().id(), acc));
            stages.add(stage);
            return acc;
        }
    }

    /** The pixel baseline's file. */
    record Baseline(String data, int rows, String probe, double accuracy) {
    }

    private Path train(Plan.ModelSource m) {
        Plan.TrainRecipe r = m.train();
        String key = StageKeys.train(r);
        Path file = trainedFile(m);
        if (Files.isRegularFile(file)) {
            stages.add(new Stage(StageKind.TRAIN, m.name(), key, true));
            return file;
        }
        Stage stage = new Stage(StageKind.TRAIN, m.name(), key, false);
        listener.beforeStage(stage);
        createDirectories(file.getParent());
        Dataset ds = DataSpec.open(r.data());
        Split split = Split.choose(ds, r.trainFrac(), r.config().seed());
        int[] s = ds.imageShape();
        long[] shape = {s[0], s[1], s[2]};
        Record cfg = r.arch().equals("mlp")
                ? MlpDenoiser.Config.builder().inputShape(shape).depth(r.depth()).width(r.width()).build()
                : UNet.Config.builder().inputShape(shape).channels(r.channels()).blocks(r.blocks())
                .attention(r.attention()).build();
        ModelSize.check(cfg, "models." + m.name() + ".train");
        NetworkDenoiser net = ModelFiles.build(cfg, r.config().seed());
        Trainer trainer = new Trainer(net, r.config());
        Path ckpt = file.resolveSibling(file.getFileName() + ".ckpt");
        say("plan: model %s: training %s, %d steps of %d on %s", m.name(), r.arch(), r.config().steps(),
                r.config().batch(), r.data());
        try (TrainingProgress progress = new TrainingProgress(0, r.config().steps(), log == null ? nullStream() : log)) {
            trainer.run(new DatasetImages(ds, split.trainIndices()), ckpt, true, progress);
            Path tmp = AtomicFiles.tempOf(file);
            ModelFiles.save(net, tmp, trainer.provenance());
            AtomicFiles.moveInto(tmp, file);
            Files.deleteIfExists(ckpt);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        stages.add(stage);
        return file;
    }

    private Path trainedFile(Plan.ModelSource m) {
        return plan.out().resolve("models").resolve(m.name() + "-" + StageKeys.shortKey(StageKeys.train(m.train()))
                + ".safetensors");
    }

    Path storeDir(String key) {
        return plan.out().resolve("stores").resolve(StageKeys.shortKey(key));
    }

    Path probeDir(String key) {
        return plan.out().resolve("probes").resolve(StageKeys.shortKey(key));
    }

    private static boolean storeComplete(Path dir) {
        if (!Files.isRegularFile(dir.resolve(StoreLayout.MANIFEST))) {
            return false;
        }
        try {
            return FeatureStore.open(dir, true).manifest().complete();
        } catch (InvalidInputException e) {
            return false;
        }
    }

    private Object lock(String key) {
        return locks.computeIfAbsent(key, k -> new Object());
    }

    private static String fileId(Path f) {
        try {
            return Hashes.sha256Id(BuiltinModels.resolve(f));
        } catch (IOException e) {
            throw new InvalidInputException(f + ": cannot read the model file: " + e.getMessage());
        }
    }

    private static <T> T read(Path file, Class<T> type) {
        try {
            return Json.COMPACT.readValue(file.toFile(), type);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read a cached result: " + e.getMessage(), e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first line of an exception's message, with its type when it is not an input error. */
    static String message(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        m = m.lines().filter(l -> !l.isBlank()).findFirst().orElse(m).strip();
        return e instanceof InvalidInputException || e instanceof UncheckedIOException ? m
                : m + " (" + e.getClass().getSimpleName() + ")";
    }

    private void say(String format, Object... args) {
        if (log != null) {
            log.printf(format + "%n", args);
        }
    }

    private static PrintStream nullStream() {
        return new PrintStream(java.io.OutputStream.nullOutputStream());
    }
}
