package org.diffrep.plan;

import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.UNet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Tiny UNets with fixed seeds and small plans over 200 built-in MNIST digits at 3 sigmas. Tests only. */
public final class PlanFixtures {

    private PlanFixtures() {
    }

    /** A random-weight UNet (channels 4,8, no attention) saved to {@code file}; {@code seed} makes each distinct. */
    public static Path tinyUnet(Path file, long seed) throws IOException {
        UNet.Config cfg = UNet.Config.builder().inputShape(1, 28, 28).channels(4, 8).blocks(1).attention(0).build();
        NetworkDenoiser net = ModelFiles.build(cfg, seed);
        ModelFiles.save(net, file, Map.of("note", "random weights, test fixture"));
        return file;
    }

    /** A plan over {@code models} (name -> file) on built-in MNIST: 200 digits, taps mid and dec.0, 3 sigmas. */
    public static String plan(Path out, Map<String, Path> models) {
        StringBuilder m = new StringBuilder();
        models.forEach((k, v) -> m.append("  ").append(k).append(": ").append(v).append('\n'));
        return "out: " + out + "\n"
                + "models:\n" + m
                + "data: {mnist: \"builtin:mnist\"}\n"
                + "extract: {layers: [mid, dec.0], sigmas: [0.05, 0.5, 3], input: clean, limit: 200, shard_size: 100}\n"
                + "probe: {kind: linear, label_noise: [0, 0.4], ensemble_width: 1, l2: 0.01}\n";
    }

    public static Path write(Path file, String text) throws IOException {
        Files.writeString(file, text);
        return file;
    }
}
