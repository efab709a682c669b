package org.diffrep.train;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Json;
import org.diffrep.model.Finite;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.SafeTensors;
import org.diffrep.ops.AdamOptimizer;
import org.diffrep.ops.Tensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint: one safetensors file (written to a temporary file and renamed) holding
 * {@code model.*} (weights), {@code ema.*} (averaged weights), {@code adam.m.*}/{@code adam.v.*}
 * (optimizer moments), and in its metadata the architecture, the step reached, the seed and the
 * training settings. Batches and noise of step s derive from (seed, s), so step and seed are the
 * whole random state.
 */
public final class Checkpoint {

    public static final String STEP = "diffrep.train.step";
    public static final String SEED = "diffrep.train.seed";
    public static final String TRAIN_CONFIG = "diffrep.train.config";

    private Checkpoint() {
    }

    static void save(Path file, NetworkDenoiser model, Ema ema, AdamOptimizer adam, long step, TrainConfig cfg,
                     Map<String, Object> provenance) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.stateTensors().forEach((k, t) -> all.put("model." + k, t));
        ema.weights().forEach((k, t) -> all.put("ema." + k, t));
        adam.state().forEach((k, t) -> all.put("adam." + k, t));
        Map<String, String> meta = ModelFiles.metadata(model, provenance);
        meta.put(STEP, Long.toString(step));
        meta.put(SEED, Long.toString(cfg.seed()));
        meta.put(TRAIN_CONFIG, cfg.toString());
        SafeTensors.write(file, all, meta);
    }

    /** Restores model, EMA and optimizer from {@code file}; returns the step it was taken at. */
    static long restore(Path file, NetworkDenoiser model, Ema ema, AdamOptimizer adam, TrainConfig cfg) {
        return restore(file, model, ema, adam, cfg, Map.of());
    }

    /**
     * Restores model, EMA and optimizer from {@code file} and returns the step it was taken at. A
     * checkpoint is only continued with the settings it was made with: another architecture, seed,
     * batch, learning rate, warm-up, EMA decay, loss or DAE level (or, when {@code provenance} says,
     * other data or another training split) is refused, naming every setting that differs, as
     * an extraction's resume does. Only {@code steps} (how far to go) and {@code checkpointEvery}
     * may change.
     */
    static long restore(Path file, NetworkDenoiser model, Ema ema, AdamOptimizer adam, TrainConfig cfg,
                        Map<String, Object> provenance) {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = c.metadata();
        String config = ModelFiles.configJson(model);
        if (!model.kind().equals(meta.get(ModelFiles.KIND)) || !config.equals(meta.get(ModelFiles.CONFIG))) {
            throw InvalidInputException.fields("{resume}: " + InvalidInputException.literal(file)
                    + " is a checkpoint of another architecture (" + InvalidInputException.literal(meta.get(ModelFiles.KIND)
                    + " " + meta.get(ModelFiles.CONFIG)) + "), this run builds " + model.kind() + " "
                    + InvalidInputException.literal(config) + "; use the same model settings or another checkpoint",
                    "resume");
        }
        String seed = meta.get(SEED);
        if (seed == null || !seed.equals(Long.toString(cfg.seed()))) {
            throw InvalidInputException.fields("{resume}: " + InvalidInputException.literal(file)
                    + " was trained with seed " + InvalidInputException.literal(seed) + ", this run uses " + cfg.seed()
                    + "; resume with the same {seed}", "resume", "seed");
        }
        List<String> fields = new ArrayList<>(List.of("resume", "steps", "checkpointEvery"));
        List<String> diffs = differences(file, meta, cfg, provenance, fields);
        if (!diffs.isEmpty()) {
            throw InvalidInputException.fields("{resume}: " + InvalidInputException.literal(file)
                    + " was trained with other settings, refusing to mix: " + String.join("; ", diffs)
                    + " (only {steps} and {checkpointEvery} may change)", fields.toArray(String[]::new));
        }
        long step;
        try {
            step = Long.parseLong(meta.getOrDefault(STEP, ""));
        } catch (NumberFormatException e) {
            throw new InvalidInputException(file + ": __metadata__." + STEP + " must be a step number, found '"
                    + meta.get(STEP) + "'");
        }
        if (step < 0) {
            throw new InvalidInputException(file + ": __metadata__." + STEP + " must be >= 0, found " + step);
        }
        Map<String, Tensor> modelTensors = strip(c.tensors(), "model.");
        Map<String, Tensor> emaTensors = strip(c.tensors(), "ema.");
        Map<String, Tensor> adamTensors = strip(c.tensors(), "adam.");
        checkNames(file, model.stateTensors(), modelTensors, "model.");
        Map<String, Tensor> params = model.parameterTensors();
        for (String k : params.keySet()) {
            long[] shape = Tensors.shape(params.get(k));
            needShape(file, emaTensors, "ema.", k, shape);
            needShape(file, adamTensors, "adam.", "m." + k, shape);
            needShape(file, adamTensors, "adam.", "v." + k, shape);
        }
        Finite.requireTensors(file.toString(), modelTensors, "model.");
        Finite.requireTensors(file.toString(), emaTensors, "ema.");
        Finite.requireTensors(file.toString(), adamTensors, "adam.");
        try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
            model.stateTensors().forEach((k, t) -> t.copy_(modelTensors.get(k)));
        }
        ema.load(emaTensors);
        adam.load(adamTensors, step);
        return step;
    }

    /** The step a checkpoint file was taken at, or "?" when it cannot be read. */
    static String stepOf(Path file) {
        try {
            return SafeTensors.read(file).metadata().getOrDefault(STEP, "?");
        } catch (RuntimeException e) {
            return "?";
        }
    }

    /** The training settings that decide the result: record components, in the order they are reported. */
    private static final List<String> SETTINGS = List.of("batch", "daeSigma", "emaDecay", "loss", "lr", "pMean",
            "pStd", "warmupSteps");

    /**
     * Each setting that differs, as {@code "{field} was a, now b"} (text for a
     * {@link InvalidInputException#fields} template); adds the fields it names to {@code fields}.
     */
    private static List<String> differences(Path file, Map<String, String> meta, TrainConfig cfg,
                                            Map<String, Object> provenance, List<String> fields) {
        String storedText = meta.get(TRAIN_CONFIG);
        Map<String, String> stored = storedText == null ? null : components(storedText);
        if (stored == null) {
            throw new InvalidInputException(file + ": __metadata__." + TRAIN_CONFIG
                    + " is missing or unreadable, so the settings it was trained with are unknown; found " + storedText);
        }
        Map<String, String> now = components(cfg.toString());
        List<String> out = new ArrayList<>();
        for (String setting : SETTINGS) {
            String was = stored.get(setting);
            String is = now.get(setting);
            if (!java.util.Objects.equals(was, is)) {
                out.add("{" + setting + "} was " + InvalidInputException.literal(was) + ", now " + is);
                fields.add(setting);
            }
        }
        if (!provenance.isEmpty()) {
            Map<String, Object> before = storedProvenance(meta);
            for (String key : List.of("data", "trainCount")) {
                Object was = before.get(key);
                Object is = provenance.get(key);
                if (was != null && is != null && !String.valueOf(was).equals(String.valueOf(is))) {
                    out.add((key.equals("data") ? "{data}" : "training images ({trainFrac}, {data})") + " was "
                            + InvalidInputException.literal(was) + ", now " + InvalidInputException.literal(is));
                    fields.addAll(key.equals("data") ? List.of("data") : List.of("trainFrac", "data"));
                }
            }
        }
        return out;
    }

    /** The components of a record's toString ({@code Name[a=1, b=x]}); null if it is not one. */
    static Map<String, String> components(String recordText) {
        int open = recordText.indexOf('[');
        if (open < 0 || !recordText.endsWith("]")) {
            return null;
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : recordText.substring(open + 1, recordText.length() - 1).split(", ")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                return null;
            }
            m.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> storedProvenance(Map<String, String> meta) {
        try {
            Object p = Json.COMPACT.readValue(
                    meta.getOrDefault(ModelFiles.PROVENANCE, "{}"), Map.class);
            return p instanceof Map ? (Map<String, Object>) p : Map.of();
        } catch (java.io.IOException e) {
            return Map.of();
        }
    }

    private static void needShape(Path file, Map<String, Tensor> m, String prefix, String name, long[] shape) {
        Tensor t = need(file, m, prefix, name);
        if (!java.util.Arrays.equals(Tensors.shape(t), shape)) {
            throw new InvalidInputException(file + ": tensor '" + prefix + name + "' has shape "
                    + java.util.Arrays.toString(Tensors.shape(t)) + ", expected " + java.util.Arrays.toString(shape));
        }
    }

    private static void checkNames(Path file, Map<String, Tensor> want, Map<String, Tensor> got, String prefix) {
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
            Tensor t = need(file, got, prefix, e.getKey());
            if (!java.util.Arrays.equals(Tensors.shape(t), Tensors.shape(e.getValue()))) {
                throw new InvalidInputException(file + ": tensor '" + prefix + e.getKey() + "' has shape "
                        + java.util.Arrays.toString(Tensors.shape(t)) + ", expected "
                        + java.util.Arrays.toString(Tensors.shape(e.getValue())));
            }
        }
    }

    private static Tensor need(Path file, Map<String, Tensor> m, String prefix, String name) {
        Tensor t = m.get(name);
        if (t == null) {
            throw new InvalidInputException(file + ": checkpoint lacks tensor '" + prefix + name + "'");
        }
        return t;
    }

    private static Map<String, Tensor> strip(Map<String, Tensor> all, String prefix) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        all.forEach((k, t) -> {
            if (k.startsWith(prefix)) {
                m.put(k.substring(prefix.length()), t);
            }
        });
        return m;
    }
}
