package org.diffrep.extract;

import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Shared fixture: real MNIST (builtin:mnist) and a small MLP denoiser initialised from a
 * fixed seed. Random weights are enough here: the tests check determinism, resumption, shapes and
 * the clean/noisy limit, which hold for any fixed network, and they keep the suite fast.
 */
final class ExtractFixture {

    static final String MNIST = "builtin:mnist";
    private static Dataset data;

    private ExtractFixture() {
    }

    static synchronized Dataset mnist() {
        if (data == null) {
            data = DataSpec.open(MNIST);
        }
        return data;
    }

    static NetworkDenoiser mlp() {
        MlpDenoiser.Config c = new MlpDenoiser.Config(new long[]{1, 28, 28}, 2, 48, "silu", "sinusoidal", 16,
                org.diffrep.model.Parametrisation.EDM);
        NetworkDenoiser m = new MlpDenoiser(c);
        // Same weights every time: build through ModelFiles, which seeds LibTorch first.
        return ModelFiles.build("mlp", ModelFiles.configJson(m), 1234);
    }

    /** A small UNet (8/16 channels, attention at the 16-channel level) with fixed weights. */
    static NetworkDenoiser unet() {
        org.diffrep.model.UNet.Config c = new org.diffrep.model.UNet.Config(new long[]{1, 28, 28}, new int[]{8, 16}, 1,
                new int[]{16}, org.diffrep.model.NoiseEmbedding.FOURIER, org.diffrep.model.Parametrisation.EDM);
        return ModelFiles.build(c, 99);
    }

    static ExtractConfig.Builder config(Path out) {
        return ExtractConfig.builder().data(MNIST).out(out).layers(List.of("enc.0", "out"))
                .sigmas(0.01f, 0.1f, 1.0f).limit(200).batch(32).forwardRows(32).shardSize(64).seed(7);
    }

    static ExtractSummary run(ExtractConfig cfg, NetworkDenoiser model) {
        return new Extractor(cfg).log(null).run(model, "mlp-seed-1234", mnist());
    }

    /** Relative paths of every regular file under dir, sorted. */
    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> w = Files.walk(dir)) {
            return w.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    /** Paths whose bytes differ between two directories (and files present in only one). */
    static List<String> differingFiles(Path a, Path b, String under) throws IOException {
        List<String> out = new ArrayList<>();
        List<String> fa = files(a).stream().filter(f -> f.startsWith(under)).toList();
        List<String> fb = files(b).stream().filter(f -> f.startsWith(under)).toList();
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
}
