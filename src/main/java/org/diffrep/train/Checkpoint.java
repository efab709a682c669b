package org.diffrep.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bytedeco.pytorch.Tensor;

import org.diffrep.InvalidInputException;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.SafeTensors;
import org.diffrep.ops.Tensors;

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
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = c.metadata();
        String config = ModelFiles.configJson(model);
        if (!model.kind().equals(meta.get(ModelFiles.KIND)) || !config.equals(meta.get(ModelFiles.CONFIG))) {
            throw new InvalidInputException(file + ": checkpoint is of a different architecture ("
                    + meta.get(ModelFiles.KIND) + " " + meta.get(ModelFiles.CONFIG) + "), expected "
                    + model.kind() + " " + config);
        }
        String seed = meta.get(SEED);
        if (seed == null || Long.parseLong(seed) != cfg.seed()) {
            throw new InvalidInputException(file + ": checkpoint was trained with seed " + seed
                    + ", this run uses " + cfg.seed() + "; resume with the same --seed");
        }
        long step;
        try {
            step = Long.parseLong(meta.getOrDefault(STEP, ""));
        } catch (NumberFormatException e) {
            throw new InvalidInputException(file + ": __metadata__." + STEP + " is not a step number");
        }
        Map<String, Tensor> modelTensors = strip(c.tensors(), "model.");
        Map<String, Tensor> emaTensors = strip(c.tensors(), "ema.");
        Map<String, Tensor> adamTensors = strip(c.tensors(), "adam.");
        checkNames(file, model.stateTensors(), modelTensors, "model.");
        for (String k : model.parameterTensors().keySet()) {
            need(file, emaTensors, "ema.", k);
            need(file, adamTensors, "adam.", "m." + k);
            need(file, adamTensors, "adam.", "v." + k);
        }
        try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
            model.stateTensors().forEach((k, t) -> t.copy_(modelTensors.get(k)));
        }
        ema.load(emaTensors);
        adam.load(adamTensors, step);
        return step;
    }

    private static void checkNames(Path file, Map<String, Tensor> want, Map<String, Tensor> got, String prefix) {
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
            Tensor t = need(file, got, prefix, e.getKey());
            if (!java.util.Arrays.equals(Tensors.shape(t), Tensors.shape(e.getValue()))) {
                throw new InvalidInputException(file + ": tensor '" + prefix + e.getKey() + "' has the wrong shape");
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
