package org.diffrep.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.diffrep.BuildInfo;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Json;
import org.diffrep.ops.Tensors;

/**
 * Model files. A diffrep model is one safetensors file whose {@code __metadata__} holds
 * {@code diffrep.kind} ({@code mlp} or {@code unet}), {@code diffrep.config} (the architecture as
 * JSON), {@code diffrep.provenance} (data, steps, seed, ... as JSON) and {@code diffrep.version} (the
 * {@link BuildInfo#version() version} of diffrep that wrote it); the tensors are the
 * network's parameters and buffers by name. TorchScript files (zip archives) load as
 * {@link TorchScriptDenoiser}.
 */
public final class ModelFiles {

    public static final String KIND = "diffrep.kind";
    public static final String CONFIG = "diffrep.config";
    public static final String PROVENANCE = "diffrep.provenance";
    public static final String VERSION = "diffrep.version";


    private ModelFiles() {
    }

    /** Builds an untrained network of {@code kind} from its configuration JSON, initialised from {@code seed}. */
    public static NetworkDenoiser build(String kind, String configJson, long seed) {
        return build(parseConfig(kind, configJson, "configuration"), seed);
    }

    /**
     * Builds an untrained network from an {@link MlpDenoiser.Config} or {@link UNet.Config}, initialised
     * from {@code seed}, after checking that its weights fit the memory limit ({@link ModelSize#check}).
     */
    public static NetworkDenoiser build(Record config, long seed) {
        if (!(config instanceof MlpDenoiser.Config) && !(config instanceof UNet.Config)) {
            throw new IllegalArgumentException("not a network configuration: " + config);
        }
        String kind = config instanceof MlpDenoiser.Config ? "mlp" : "unet";
        ModelSize.check(config, "the " + kind + " configuration");
        torch.manual_seed(seed);
        return config instanceof MlpDenoiser.Config c ? new MlpDenoiser(c) : new UNet((UNet.Config) config);
    }

    /**
     * Reads a configuration of {@code kind} from JSON, checking every field's presence, type and range
     * before any module is built; every problem is an {@link InvalidInputException} that starts with
     * {@code where} and names the field, what was expected and what was found.
     */
    public static Record parseConfig(String kind, String json, String where) {
        JsonNode root;
        try {
            root = Json.COMPACT.readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(where + ": not JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException(where + ": expected a JSON object of " + kind + " settings, found "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        ConfigFields f = new ConfigFields(root, where, kind);
        Record config;
        try {
            config = switch (kind) {
                case "mlp" -> {
                    f.only("inputShape", "depth", "width", "activation", "embedding", "embeddingDim", "parametrisation");
                    String embedding = f.string("embedding");
                    yield new MlpDenoiser.Config(f.shape("inputShape"), f.integer("depth", 1),
                            f.integer("width", 1), f.string("activation"), embedding,
                            NoiseEmbedding.SCALAR.equals(embedding) && !root.has("embeddingDim") ? 0
                                    : f.integer("embeddingDim", 0),
                            f.parametrisation("parametrisation"));
                }
                case "unet" -> {
                    f.only("inputShape", "channels", "blocks", "attention", "embedding", "parametrisation");
                    yield new UNet.Config(f.shape("inputShape"), f.integers("channels", 1, false),
                            f.integer("blocks", 1), f.integers("attention", 0, true), f.string("embedding"),
                            f.parametrisation("parametrisation"));
                }
                default -> throw new InvalidInputException(where + ": model kind must be mlp or unet, got '" + kind + "'");
            };
        } catch (InvalidInputException e) {
            if (e.field() == null) {
                throw e; // ConfigFields' own message, which starts with where
            }
            // a range check of the configuration record: its field is a field of this JSON object
            throw new InvalidInputException(where + ": " + e.getMessage(), e);
        }
        ModelSize.check(config, where);
        return config;
    }

    /** Typed, range-checked reads of a configuration object's fields. */
    private record ConfigFields(JsonNode root, String where, String kind) {

        void only(String... names) {
            java.util.Set<String> known = java.util.Set.of(names);
            root.fieldNames().forEachRemaining(n -> {
                if (!known.contains(n)) {
                    throw new InvalidInputException(where + ": field '" + n + "' is not part of a " + kind
                            + " configuration (fields: " + String.join(", ", names) + ")");
                }
            });
        }

        JsonNode need(String name) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                throw new InvalidInputException(where + ": lacks field '" + name + "'");
            }
            return n;
        }

        int integer(String name, int min) {
            return intValue(need(name), "field '" + name + "'", min);
        }

        int intValue(JsonNode n, String what, int min) {
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min) {
                throw new InvalidInputException(where + ": " + what + " must be an integer in [" + min + ", "
                        + Integer.MAX_VALUE + "], found " + n);
            }
            return n.asInt();
        }

        String string(String name) {
            JsonNode n = need(name);
            if (!n.isTextual()) {
                throw new InvalidInputException(where + ": field '" + name + "' must be a string, found " + n);
            }
            return n.asText();
        }

        Parametrisation parametrisation(String name) {
            String v = string(name);
            for (Parametrisation p : Parametrisation.values()) {
                if (p.name().equalsIgnoreCase(v)) {
                    return p;
                }
            }
            throw new InvalidInputException(where + ": field '" + name + "' must be EDM or VP, found \"" + v + "\"");
        }

        int[] integers(String name, int min, boolean optional) {
            JsonNode n = root.get(name);
            if (optional && (n == null || n.isNull())) {
                return new int[0];
            }
            n = need(name);
            if (!n.isArray()) {
                throw new InvalidInputException(where + ": field '" + name + "' must be an array of integers, found " + n);
            }
            if (n.size() > 64) {
                throw new InvalidInputException(where + ": field '" + name + "' has " + n.size()
                        + " entries, at most 64 make sense");
            }
            int[] out = new int[n.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = intValue(n.get(i), "field '" + name + "[" + i + "]'", min);
            }
            return out;
        }

        long[] shape(String name) {
            JsonNode n = need(name);
            if (!n.isArray() || n.size() > 8) {
                throw new InvalidInputException(where + ": field '" + name
                        + "' must be an array of at most 8 sizes, found " + n);
            }
            long[] out = new long[n.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = intValue(n.get(i), "field '" + name + "[" + i + "]'", 1);
            }
            return out;
        }
    }

    /** The configuration of a network as Json.COMPACT. */
    public static String configJson(NetworkDenoiser model) {
        try {
            return Json.COMPACT.writeValueAsString(model.config());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the model (its current weights) with provenance (any JSON-serialisable map), atomically. */
    public static void save(NetworkDenoiser model, Path file, Map<String, Object> provenance) throws IOException {
        SafeTensors.write(file, model.stateTensors(), metadata(model, provenance));
    }

    /** The {@code __metadata__} entries describing {@code model}. */
    public static Map<String, String> metadata(NetworkDenoiser model, Map<String, Object> provenance) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(KIND, model.kind());
        meta.put(CONFIG, configJson(model));
        try {
            meta.put(PROVENANCE, Json.COMPACT.writeValueAsString(provenance == null ? Map.of() : provenance));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("provenance is not JSON-serialisable", e);
        }
        meta.put(VERSION, BuildInfo.version());
        return meta;
    }

    /**
     * Loads a model file: safetensors written by {@link #save}, or a TorchScript archive; {@code builtin:NAME} loads a
     * model shipped in the jar ({@link BuiltinModels}).
     */
    public static Denoiser load(Path named) {
        Path file = BuiltinModels.resolve(named);
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": no such model file");
        }
        if (isZip(file)) {
            return new TorchScriptDenoiser(file);
        }
        return loadNetwork(named);
    }

    /**
     * Loads a safetensors model file ({@code builtin:NAME} for one in the jar) into a new network, checking every
     * tensor against the architecture.
     */
    public static NetworkDenoiser loadNetwork(Path named) {
        Path file = BuiltinModels.resolve(named);
        SafeTensors.Contents c = SafeTensors.read(file);
        String kind = c.metadata().get(KIND);
        String config = c.metadata().get(CONFIG);
        if (kind == null || config == null) {
            throw new InvalidInputException(file + ": __metadata__ lacks " + KIND + " or " + CONFIG
                    + "; not a diffrep model file");
        }
        NetworkDenoiser model = build(parseConfig(kind, config, file + ": __metadata__." + CONFIG), 0);
        model.source(named.toString());
        copyInto(file, model.stateTensors(), c.tensors(), "");
        return model;
    }

    /** Copies {@code prefix + name} tensors of {@code saved} into {@code target}, checking names and shapes. */
    static void copyInto(Path file, Map<String, Tensor> target, Map<String, Tensor> saved, String prefix) {
        for (Map.Entry<String, Tensor> e : target.entrySet()) {
            String name = prefix + e.getKey();
            Tensor s = saved.get(name);
            if (s == null) {
                throw new InvalidInputException(file + ": tensor '" + name + "' is missing");
            }
            long[] want = Tensors.shape(e.getValue());
            long[] got = Tensors.shape(s);
            if (!Arrays.equals(want, got)) {
                throw new InvalidInputException(file + ": tensor '" + name + "' has shape " + Arrays.toString(got)
                        + ", the architecture needs " + Arrays.toString(want));
            }
        }
        for (String name : saved.keySet()) {
            if (name.startsWith(prefix) && !target.containsKey(name.substring(prefix.length()))) {
                throw new InvalidInputException(file + ": tensor '" + name + "' is not part of the architecture");
            }
        }
        Map<String, Tensor> used = new LinkedHashMap<>();
        target.keySet().forEach(k -> used.put(k, saved.get(prefix + k)));
        Finite.requireTensors(file.toString(), used, prefix);
        try (NoGradGuard g = new NoGradGuard()) {
            target.forEach((k, t) -> t.copy_(saved.get(prefix + k)));
        }
    }

    /** Reads a JSON metadata entry. */
    static JsonNode json(Path file, Map<String, String> meta, String key) {
        String s = meta.get(key);
        if (s == null) {
            throw new InvalidInputException(file + ": __metadata__ lacks " + key);
        }
        try {
            return Json.COMPACT.readTree(s);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(file + ": __metadata__." + key + " is not JSON", e);
        }
    }

    private static boolean isZip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
