package org.diffrep.analysis;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.diffrep.io.Npy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A feature store whose "features" are real MNIST pixels (layer {@code pixels}, [N, 784]): at sigma
 * index i the pixels plus i times a fixed offset pattern, so each sigma is distinct. Tests only; the
 * manifest follows docs of the extract package (snake_case fields).
 */
public final class TestStores {

    private TestStores() {
    }

    /** A store of the first {@code count} MNIST digits' pixels at the given sigmas. */
    public static Path mnistPixels(Path dir, int count, float[] sigmas) throws IOException {
        return write(dir, MnistPixels.load(count), sigmas);
    }

    static Path write(Path dir, MnistPixels m, float[] sigmas) throws IOException {
        Files.createDirectories(dir.resolve("features/pixels"));
        List<String> files = new ArrayList<>();
        for (int i = 0; i < sigmas.length; i++) {
            float[] x = m.pixels().clone();
            for (int q = 0; q < x.length; q++) {
                x[q] += 0.01f * i * ((q % 7) - 3);
            }
            Npy.write(dir.resolve("features/pixels/sigma_" + i + ".npy"), x, m.count(), MnistPixels.D);
            files.add("features/pixels/sigma_" + i + ".npy");
        }
        Npy.write(dir.resolve("labels.npy"), m.labels());
        byte[] split = new byte[m.count()];
        java.util.Arrays.fill(split, (byte) 1);
        Npy.write(dir.resolve("split.npy"), split);
        files.add("labels.npy");
        files.add("split.npy");
        List<Float> s = new ArrayList<>();
        for (float f : sigmas) {
            s.add(f);
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("model", "none");
        settings.put("model_id", "pixels");
        settings.put("data", "builtin:mnist");
        settings.put("count", m.count());
        settings.put("layers", List.of("pixels"));
        settings.put("sigmas", s);
        settings.put("input", "clean");
        settings.put("noise_draws", 1);
        settings.put("pool", "none");
        settings.put("topk", 0);
        settings.put("batch", 1);
        settings.put("shard_size", m.count());
        settings.put("seed", 0);
        settings.put("split", "all");
        settings.put("train_frac", 1.0);
        settings.put("limit", 0);
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", "diffrep-feature-store/1");
        manifest.put("settings", settings);
        manifest.put("layers", Map.of("pixels", Map.of("map_shape", List.of(1, 28, 28), "row_length", 784)));
        manifest.put("files", files);
        manifest.put("versions", Map.of());
        manifest.put("complete", true);
        new ObjectMapper().writeValue(dir.resolve("manifest.json").toFile(), manifest);
        return dir;
    }
}
