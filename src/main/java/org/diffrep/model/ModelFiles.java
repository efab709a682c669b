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
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.diffrep.BuildInfo;
import org.diffrep.InvalidInputException;
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

    static final ObjectMapper JSON = new ObjectMapper();

    private ModelFiles() {
    }

    /** Builds an untrained network of {@code kind} from its configuration JSON, initialised from {@code seed}. */
    public static NetworkDenoiser build(String kind, String configJson, long seed) {
        try {
            torch.manual_seed(seed);
            return switch (kind) {
                case "mlp" -> new MlpDenoiser(JSON.readValue(configJson, MlpDenoiser.Config.class));
                case "unet" -> new UNet(JSON.readValue(configJson, UNet.Config.class));
                default -> throw new InvalidInputException("model kind must be mlp or unet, got '" + kind + "'");
            };
        } catch (JsonProcessingException e) {
            throw new InvalidInputException("bad " + kind + " configuration: " + e.getOriginalMessage(), e);
        }
    }

    /** Builds an untrained network from an {@link MlpDenoiser.Config} or {@link UNet.Config}, initialised from {@code seed}. */
    public static NetworkDenoiser build(Record config, long seed) {
        torch.manual_seed(seed);
        if (config instanceof MlpDenoiser.Config c) {
            return new MlpDenoiser(c);
        }
        if (config instanceof UNet.Config c) {
            return new UNet(c);
        }
        throw new IllegalArgumentException("not a network configuration: " + config);
    }

    /** The configuration of a network as JSON. */
    public static String configJson(NetworkDenoiser model) {
        try {
            return JSON.writeValueAsString(model.config());
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
            meta.put(PROVENANCE, JSON.writeValueAsString(provenance == null ? Map.of() : provenance));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("provenance is not JSON-serialisable", e);
        }
        meta.put(VERSION, BuildInfo.version());
        return meta;
    }

    /** Loads a model file: safetensors written by {@link #save}, or a TorchScript archive. */
    public static Denoiser load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": no such model file");
        }
        if (isZip(file)) {
            return new TorchScriptDenoiser(file);
        }
        return loadNetwork(file);
    }

    /** Loads a safetensors model file into a new network, checking every tensor against the architecture. */
    public static NetworkDenoiser loadNetwork(Path file) {
        SafeTensors.Contents c = SafeTensors.read(file);
        String kind = c.metadata().get(KIND);
        String config = c.metadata().get(CONFIG);
        if (kind == null || config == null) {
            throw new InvalidInputException(file + ": __metadata__ lacks " + KIND + " or " + CONFIG
                    + "; not a diffrep model file");
        }
        NetworkDenoiser model;
        try {
            model = build(kind, config, 0);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file + ": " + CONFIG + " is not a valid " + kind + " architecture: "
                    + e.getMessage(), e);
        }
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
            return JSON.readTree(s);
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
