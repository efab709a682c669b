package org.diffrep.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.diffrep.Choice;
import org.diffrep.InvalidInputException;
import org.diffrep.analysis.ActiveChannels;
import org.diffrep.analysis.KMeansConfig;
import org.diffrep.data.DataSpec;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.InputMode;
import org.diffrep.extract.Pooling;
import org.diffrep.model.BuiltinModels;
import org.diffrep.noise.SigmaGrid;
import org.diffrep.probe.LogisticProbe;
import org.diffrep.probe.NeuralProbe;
import org.diffrep.probe.ProbeKind;
import org.diffrep.sae.SaeConfig;
import org.diffrep.study.ProbeStudy;
import org.diffrep.train.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reads a plan file (YAML, or JSON, which is YAML too) into a {@link Plan}. Every key is checked: an
 * unknown key, a value of the wrong type or out of range, a model file that is not there, a data spec
 * that does not parse: each is one {@link InvalidInputException} naming the plan file and the key path
 * ({@code probe.label_noise[1]}) and what was expected. Nothing is computed here.
 */
public final class PlanParser {

    static final Set<String> TOP = ordered("out", "models", "data", "extract", "probe", "baseline", "analyses");
    static final Set<String> ANALYSES = ordered("cluster", "sparsity", "sae");
    static final Set<String> CLUSTER = ordered("k", "n_init", "max_iter", "seed");
    static final Set<String> SPARSITY = ordered("threshold", "mass", "per_class", "seed");
    static final Set<String> SAE = ordered("latents", "k", "k_aux", "steps", "batch", "lr", "warmup", "seed");
    static final Set<String> EXTRACT = ordered("layers", "sigmas", "input", "limit", "seed", "batch", "noise_draws",
            "pool", "train_frac", "shard_size", "forward_rows", "topk");
    static final Set<String> PROBE = ordered("kind", "label_noise", "ensemble_width", "l2", "epochs", "seed", "scale");
    static final Set<String> MODEL = ordered("file", "train", "extract", "probe");
    static final Set<String> DATA = ordered("spec", "extract", "probe");
    static final Set<String> TRAIN = ordered("data", "model", "channels", "blocks", "attention", "depth", "width",
            "steps", "batch", "lr", "warmup", "ema", "seed", "train_frac");

    /** A key given twice in one map is an error, not "the last one wins". */
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private PlanParser() {
    }

    /** Reads and checks {@code file}; {@code outOverride} (may be null) replaces the plan's {@code out}. */
    public static Plan read(Path file, Path outOverride) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such plan file");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read the plan: " + e.getMessage());
        }
        return parse(text, file, outOverride);
    }

    /** Parses plan text; {@code file} names it in messages and relative paths are taken as they are (from the working directory). */
    public static Plan parse(String text, Path file, Path outOverride) {
        String name = file.toString();
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")";
            // SnakeYAML's message spans lines (with a caret drawing); keep its sentences on one line
            String why = String.join("; ", e.getOriginalMessage().lines()
                    .filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0))).toList());
            throw new InvalidInputException(name + ": not valid YAML" + where + ": " + why);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new InvalidInputException(name + ": the plan is empty; expected a map with models, data, extract and probe");
        }
        PlanNode top = new PlanNode(name, "", root).requireObject("a map with keys " + String.join(", ", TOP), TOP);

        Path out = outOverride;
        if (out == null) {
            PlanNode o = top.get("out");
            if (o == null) {
                throw top.error("out: missing; expected the run directory (or pass --out)");
            }
            out = Path.of(o.text("a directory path"));
        }
        boolean baseline = top.get("baseline") == null || top.get("baseline").bool();
        PlanNode analyses = top.get("analyses");
        if (analyses != null) {
            analyses.requireObject("a map with keys " + String.join(", ", ANALYSES), ANALYSES);
        }
        Plan.Cluster cluster = cluster(analysis(analyses, "cluster"));
        Plan.Sparsity sparsity = sparsity(analysis(analyses, "sparsity"));
        Plan.Sae sae = sae(analysis(analyses, "sae"));

        Map<String, String> data = new LinkedHashMap<>();
        Map<String, Map<String, PlanNode>> dataExtract = new LinkedHashMap<>(), dataProbe = new LinkedHashMap<>();
        PlanNode dataNode = top.require("data", "a map of dataset name -> data spec, e.g. {mnist: \"builtin:mnist\"}");
        if (!dataNode.isObject() || dataNode.members().isEmpty()) {
            throw dataNode.expected("a map of dataset name -> data spec with at least one entry");
        }
        for (Map.Entry<String, PlanNode> e : dataNode.members().entrySet()) {
            PlanNode d = e.getValue();
            PlanNode.checkName(d, e.getKey());
            PlanNode spec = d;
            if (d.isObject()) {
                d.requireObject("a data spec or a map with " + String.join(", ", DATA), DATA);
                spec = d.require("spec", "a data spec such as builtin:mnist or idx:DIR");
                dataExtract.put(e.getKey(), section(d.get("extract"), EXTRACT));
                dataProbe.put(e.getKey(), section(d.get("probe"), PROBE));
            }
            String s = spec.text("a data spec such as builtin:mnist or idx:DIR");
            wrap(spec, () -> DataSpec.parse(s));
            data.put(e.getKey(), s);
        }

        Map<String, Plan.ModelSource> models = new LinkedHashMap<>();
        Map<String, Map<String, PlanNode>> modelExtract = new LinkedHashMap<>(), modelProbe = new LinkedHashMap<>();
        PlanNode modelsNode = top.require("models", "a map of model name -> model file (or {train: recipe})");
        if (!modelsNode.isObject() || modelsNode.members().isEmpty()) {
            throw modelsNode.expected("a map of model name -> model file with at least one entry");
        }
        for (Map.Entry<String, PlanNode> e : modelsNode.members().entrySet()) {
            PlanNode m = e.getValue();
            PlanNode.checkName(m, e.getKey());
            Path f = null;
            Plan.TrainRecipe recipe = null;
            if (m.isObject()) {
                m.requireObject("a model file or a map with " + String.join(", ", MODEL), MODEL);
                if ((m.get("file") == null) == (m.get("train") == null)) {
                    throw m.error("expected exactly one of file (a model file) or train (a training recipe)");
                }
                if (m.get("file") != null) {
                    f = modelFile(m.get("file"));
                } else {
                    recipe = recipe(m.get("train"), data);
                }
                modelExtract.put(e.getKey(), section(m.get("extract"), EXTRACT));
                modelProbe.put(e.getKey(), section(m.get("probe"), PROBE));
            } else {
                f = modelFile(m);
            }
            models.put(e.getKey(), new Plan.ModelSource(e.getKey(), f, recipe));
        }

        Map<String, PlanNode> extract = section(top.get("extract"), EXTRACT);
        Map<String, PlanNode> probe = section(top.get("probe"), PROBE);
        List<Plan.Cell> cells = new ArrayList<>();
        for (Plan.ModelSource m : models.values()) {
            for (Map.Entry<String, String> d : data.entrySet()) {
                Map<String, PlanNode> ex = over(extract, dataExtract.get(d.getKey()), modelExtract.get(m.name()));
                Map<String, PlanNode> pr = over(probe, dataProbe.get(d.getKey()), modelProbe.get(m.name()));
                ProbeStudy.Settings ps = probeSettings(pr);
                for (InputMode mode : inputs(ex.get("input"))) {
                    ExtractConfig cfg = extractConfig(ex, m.file(), d.getValue(), mode, name);
                    cells.add(new Plan.Cell(m.name(), d.getKey(), mode, cfg, ps));
                }
            }
        }
        return new Plan(file, out, models, data, cells, baseline, cluster, sparsity, sae);
    }

    /** The node of analysis {@code name}, or null when the plan has none or sets it to false. */
    private static PlanNode analysis(PlanNode analyses, String name) {
        PlanNode n = analyses == null ? null : analyses.get(name);
        return n == null || (n.json().isBoolean() && !n.bool()) ? null : n;
    }

    /** {@code analyses.cluster: true | {k, n_init, max_iter, seed}}. */
    private static Plan.Cluster cluster(PlanNode c) {
        if (c == null) {
            return null;
        }
        if (c.json().isBoolean()) {
            return new Plan.Cluster(null, KMeansConfig.DEFAULTS);
        }
        c.requireObject("true or a map with keys " + String.join(", ", CLUSTER), CLUSTER);
        KMeansConfig.Builder b = KMeansConfig.DEFAULTS.toBuilder();
        Integer k = c.get("k") == null ? null : c.get("k").integer(1, 1 << 16);
        if (c.get("n_init") != null) b.nInit(c.get("n_init").integer(1, 1000));
        if (c.get("max_iter") != null) b.maxIter(c.get("max_iter").integer(1, 1 << 20));
        if (c.get("seed") != null) b.seed(c.get("seed").integer(0L, Long.MAX_VALUE));
        return new Plan.Cluster(k, wrap(c, b::build));
    }

    /** {@code analyses.sparsity: true | {threshold | mass, per_class, seed}}; defaults those of {@code diffrep sparsity}. */
    private static Plan.Sparsity sparsity(PlanNode s) {
        if (s == null) {
            return null;
        }
        if (s.json().isBoolean()) {
            return Plan.Sparsity.DEFAULTS;
        }
        s.requireObject("true or a map with keys " + String.join(", ", SPARSITY), SPARSITY);
        Double threshold = s.get("threshold") == null ? null : s.get("threshold").number(-Double.MAX_VALUE, Double.MAX_VALUE, false);
        Double mass = s.get("mass") == null ? null : s.get("mass").number(1e-12, 1, false);
        ActiveChannels rule = threshold == null && mass == null ? Plan.Sparsity.DEFAULTS.rule()
                : wrap(s, () -> new ActiveChannels(threshold, mass));
        int perClass = s.get("per_class") == null ? Plan.Sparsity.DEFAULTS.perClass()
                : s.get("per_class").integer(2, 1 << 20);
        long seed = s.get("seed") == null ? Plan.Sparsity.DEFAULTS.seed() : s.get("seed").integer(0L, Long.MAX_VALUE);
        return new Plan.Sparsity(rule, perClass, seed);
    }

    /** {@code analyses.sae: true | {latents, k, k_aux, steps, batch, lr, warmup, seed}}; defaults {@link SaeConfig}'s. */
    private static Plan.Sae sae(PlanNode s) {
        if (s == null) {
            return null;
        }
        // the input width comes from each store; 1 stands in for it until then
        SaeConfig.Builder b = SaeConfig.builder().inputDim(1);
        if (s.json().isBoolean()) {
            return new Plan.Sae(b.build(), true);
        }
        s.requireObject("true or a map with keys " + String.join(", ", SAE), SAE);
        PlanNode n;
        if ((n = s.get("latents")) != null) b.latents(n.integer(1, 1 << 24));
        if ((n = s.get("k")) != null) b.k(n.integer(1, 1 << 24));
        if ((n = s.get("k_aux")) != null) b.kAux(n.integer(0, 1 << 24));
        if ((n = s.get("steps")) != null) b.steps(n.integer(0, Integer.MAX_VALUE));
        if ((n = s.get("batch")) != null) b.batch(n.integer(1, 1 << 20));
        if ((n = s.get("lr")) != null) b.lr(n.number(1e-12, 10, false));
        if ((n = s.get("warmup")) != null) b.warmup(n.integer(0, Integer.MAX_VALUE));
        if ((n = s.get("seed")) != null) b.seed(n.integer(0L, Long.MAX_VALUE));
        return new Plan.Sae(wrap(s, b::build), s.get("k_aux") == null);
    }

    private static Path modelFile(PlanNode n) {
        Path f = Path.of(n.text("a model file (safetensors or TorchScript) or builtin:NAME"));
        if (BuiltinModels.isBuiltin(f)) {
            wrap(n, () -> BuiltinModels.resource(f.toString().substring(BuiltinModels.PREFIX.length())));
            return f;
        }
        if (!Files.isRegularFile(f)) {
            throw n.error(f + ": no such model file");
        }
        if (!Files.isReadable(f)) {
            throw n.error(f + ": the model file is not readable");
        }
        return f;
    }

    private static Plan.TrainRecipe recipe(PlanNode t, Map<String, String> data) {
        t.requireObject("a training recipe: a map with " + String.join(", ", TRAIN), TRAIN);
        PlanNode d = t.require("data", "a dataset name of the plan's data or a data spec");
        String dn = d.text("a dataset name of the plan's data or a data spec");
        String spec = data.getOrDefault(dn, dn);
        if (!data.containsKey(dn)) {
            wrap(d, () -> DataSpec.parse(spec));
        }
        String arch = t.get("model") == null ? "unet" : t.get("model").text("unet or mlp");
        if (!arch.equals("unet") && !arch.equals("mlp")) {
            throw t.get("model").expected("unet or mlp");
        }
        int[] channels = t.get("channels") == null ? new int[]{8, 16} : ints(t.get("channels"), 1, 4096);
        int blocks = t.get("blocks") == null ? 1 : t.get("blocks").integer(1, 64);
        int[] attention = t.get("attention") == null ? new int[]{0} : ints(t.get("attention"), 0, 4096);
        int depth = t.get("depth") == null ? 3 : t.get("depth").integer(1, 64);
        int width = t.get("width") == null ? 256 : t.get("width").integer(1, 1 << 16);
        TrainConfig.Builder b = TrainConfig.builder();
        if (t.get("steps") != null) b.steps(t.get("steps").integer(0, Integer.MAX_VALUE));
        if (t.get("batch") != null) b.batch(t.get("batch").integer(1, 1 << 16));
        if (t.get("lr") != null) b.lr(t.get("lr").number(1e-12, 10, false));
        if (t.get("warmup") != null) b.warmupSteps(t.get("warmup").integer(0, Integer.MAX_VALUE));
        if (t.get("ema") != null) b.emaDecay(t.get("ema").number(0, 1, true));
        if (t.get("seed") != null) b.seed(t.get("seed").integer(0L, Long.MAX_VALUE));
        Double frac = t.get("train_frac") == null ? null : t.get("train_frac").number(1e-9, 1, false);
        TrainConfig cfg = wrap(t, b::build);
        return new Plan.TrainRecipe(spec, arch, channels, blocks, attention, depth, width, cfg, frac);
    }

    /** An override section's members with their paths (empty when absent). */
    private static Map<String, PlanNode> section(PlanNode n, Set<String> known) {
        if (n == null) {
            return Map.of();
        }
        return n.requireObject("a map with keys " + String.join(", ", known), known).members();
    }

    @SafeVarargs
    private static Map<String, PlanNode> over(Map<String, PlanNode>... levels) {
        Map<String, PlanNode> out = new LinkedHashMap<>();
        for (Map<String, PlanNode> l : levels) {
            if (l != null) {
                out.putAll(l);
            }
        }
        return out;
    }

    private static List<InputMode> inputs(PlanNode n) {
        if (n == null) {
            return List.of(ExtractConfig.DEFAULTS.input());
        }
        LinkedHashSet<InputMode> modes = new LinkedHashSet<>();
        for (PlanNode i : n.items()) {
            String t = i.text("clean, noisy or both, or a list of them");
            switch (t) {
                case "clean" -> modes.add(InputMode.CLEAN);
                case "noisy" -> modes.add(InputMode.NOISY);
                case "both" -> {
                    modes.add(InputMode.CLEAN);
                    modes.add(InputMode.NOISY);
                }
                default -> throw i.expected("clean, noisy or both");
            }
        }
        return List.copyOf(modes);
    }

    private static ExtractConfig extractConfig(Map<String, PlanNode> ex, Path model, String spec, InputMode mode,
                                               String file) {
        ExtractConfig.Builder b = ExtractConfig.builder().model(model).data(spec).input(mode).out(Path.of("."));
        PlanNode n;
        if ((n = ex.get("layers")) != null) {
            List<String> layers = new ArrayList<>();
            for (PlanNode l : n.items()) {
                layers.add(l.text("a tap name such as mid or dec.0"));
            }
            b.layers(layers);
        }
        if ((n = ex.get("sigmas")) != null) {
            b.sigmas(grid(n));
        }
        if ((n = ex.get("limit")) != null) b.limit(n.integer(0L, Integer.MAX_VALUE));
        if ((n = ex.get("seed")) != null) b.seed(n.integer(0L, Long.MAX_VALUE));
        if ((n = ex.get("batch")) != null) b.batch(n.integer(1, 1 << 16));
        if ((n = ex.get("noise_draws")) != null) b.noiseDraws(n.integer(1, 1 << 16));
        if ((n = ex.get("shard_size")) != null) b.shardSize(n.integer(1, Integer.MAX_VALUE));
        if ((n = ex.get("forward_rows")) != null) b.forwardRows(n.integer(1, 1 << 20));
        if ((n = ex.get("topk")) != null) b.topk(n.integer(0, 1 << 20));
        if ((n = ex.get("train_frac")) != null) b.trainFrac(n.number(1e-9, 1, false));
        if ((n = ex.get("pool")) != null) {
            PlanNode p = n;
            String t = p.text("mean, mean+max or none");
            b.pool(wrap(p, () -> Choice.parse(Pooling.class, t)));
        }
        try {
            return b.build();
        } catch (InvalidInputException e) {
            // a field of ExtractConfig: name the plan key that set it (or the section when no key did)
            String field = e.field() == null ? "" : snake(e.field());
            PlanNode where = ex.get(field);
            throw new InvalidInputException(file + ": " + (where != null ? "" : "extract: ")
                    + e.message(f -> where != null && f.equals(e.field()) ? where.path() : snake(f)));
        }
    }

    private static SigmaGrid grid(PlanNode n) {
        if (n.isText()) {
            String t = n.text("default, a list of numbers, edm:N or log:MIN,MAX,N");
            return t.equals("default") ? SigmaGrid.defaults() : wrap(n, () -> SigmaGrid.parse(t));
        }
        if (n.isArray()) {
            StringBuilder s = new StringBuilder();
            for (PlanNode i : n.items()) {
                s.append(s.length() == 0 ? "" : ",").append(i.number(0, Double.MAX_VALUE, false));
            }
            return wrap(n, () -> SigmaGrid.parse(s.toString()));
        }
        throw n.expected("default, a list of numbers, edm:N or log:MIN,MAX,N");
    }

    private static ProbeStudy.Settings probeSettings(Map<String, PlanNode> pr) {
        ProbeStudy.Settings.Builder b = ProbeStudy.Settings.builder().pixelBaseline(false); // the plan's own baseline stage
        long seed = ProbeStudy.Settings.DEFAULTS.seed();
        PlanNode n;
        if ((n = pr.get("kind")) != null) {
            String t = n.text("linear, bn-linear or mlp");
            b.kind(wrap(n, () -> ProbeKind.parse(t)));
        }
        if ((n = pr.get("label_noise")) != null) {
            List<PlanNode> items = n.items();
            double[] f = new double[items.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = items.get(i).number(0, 1, true);
            }
            b.labelNoise(f);
        }
        if ((n = pr.get("ensemble_width")) != null) b.ensembleWidth(n.integer(0, 1000));
        if ((n = pr.get("seed")) != null) seed = n.integer(0L, Long.MAX_VALUE);
        LogisticProbe.Settings.Builder logistic = LogisticProbe.Settings.builder().seed(seed);
        if ((n = pr.get("l2")) != null) logistic.l2(n.number(0, 1e6, false));
        if ((n = pr.get("scale")) != null) {
            String t = n.text("columns, global or auto");
            logistic.scaling(wrap(n, () -> Choice.parse(LogisticProbe.Scaling.class, t)));
        }
        NeuralProbe.Settings.Builder neural = NeuralProbe.Settings.builder().seed(seed);
        if ((n = pr.get("epochs")) != null) neural.epochs(n.integer(1, 100000));
        return b.logistic(logistic.build()).neural(neural.build()).seed(seed).build();
    }

    private static int[] ints(PlanNode n, int min, int max) {
        List<PlanNode> items = n.items();
        int[] out = new int[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = items.get(i).integer(min, max);
        }
        return out;
    }

    /** Runs a library check and re-throws its message under the node's key path. */
    private static <T> T wrap(PlanNode n, Supplier<T> check) {
        try {
            return check.get();
        } catch (InvalidInputException e) {
            throw n.error(e.message(PlanParser::snake));
        }
    }

    /** {@code noiseDraws -> noise_draws}. */
    static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    private static Set<String> ordered(String... keys) {
        return java.util.Collections.unmodifiableSet(new LinkedHashSet<>(List.of(keys)));
    }
}
