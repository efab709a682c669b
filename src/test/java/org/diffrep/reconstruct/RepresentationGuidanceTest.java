package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.cli.Main;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.UNet;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guidance mechanics on a small untrained UNet (a trained one is not needed to check gradients and wiring). */
class RepresentationGuidanceTest {

    static NetworkDenoiser tinyUNet() {
        torch.manual_seed(0);
        return new UNet(new UNet.Config(new long[]{1, 28, 28}, new int[]{8, 8}, 1, new int[0],
                NoiseEmbedding.SINUSOIDAL, Parametrisation.EDM));
    }

    /** A small step against the correction lowers every sample's representation distance to the target. */
    @Test
    void correctionIsADescentDirection() throws Exception {
        NetworkDenoiser net = tinyUNet();
        net.train(false);
        float[] px = StochasticSamplerTest.digits(3);
        try (PointerScope s = new PointerScope()) {
            Tensor target = Tensors.fromFloats(java.util.Arrays.copyOfRange(px, 0, 784), 1, 1, 28, 28);
            Tensor y = Tensors.fromFloats(java.util.Arrays.copyOfRange(px, 784, 3 * 784), 2, 1, 28, 28);
            RepresentationGuidance g = new RepresentationGuidance(net, "mid", target, 1.0);
            Tensor sigma = Tensors.fromFloats(new float[]{0.5f, 0.5f});
            Tensor c = g.correction(y, sigma);
            double[] before = g.distances(y, 0.5f);
            // unit RMS step of 0.01 per sample along -c
            Tensor norm = c.reshape(2, 784).norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), 1)
                    .reshape(2, 1, 1, 1);
            Tensor moved = y.sub(c.div(norm).mul(new Scalar(0.01 * 28)));
            double[] after = g.distances(moved, 0.5f);
            for (int b = 0; b < 2; b++) {
                assertTrue(before[b] > 0, "distance " + before[b]);
                assertTrue(after[b] < before[b], "sample " + b + ": " + before[b] + " -> " + after[b]);
            }
            assertEquals(0.0, g.distances(target, 0.5f)[0], 1e-5);
        }
    }

    @Test
    void unknownTapIsRefused() {
        NetworkDenoiser net = tinyUNet();
        try (PointerScope s = new PointerScope()) {
            var e = assertThrows(InvalidInputException.class,
                    () -> new RepresentationGuidance(net, "middle", torch.zeros(1, 1, 28, 28), 1));
            assertTrue(e.getMessage().startsWith("--tap 'middle': the model has taps ["), e.getMessage());
        }
    }

    @Test
    void reconstructCommandWritesMontageAndDistances(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("tiny.safetensors");
        ModelFiles.save(tinyUNet(), model, Map.of("note", "untrained, for wiring tests"));
        Path out = tmp.resolve("rec");
        assertEquals(0, Main.run("reconstruct", "--model", model.toString(), "--data", "idx:../shared/data/mnist",
                "--index", "7", "--samples", "2", "--max-steps", "4", "--baseline", "3", "--out", out.toString()));
        var j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("reconstruct.json").toFile());
        assertEquals(2, j.get("sample_distances").size());
        assertEquals(3, j.get("baseline_distances").size());
        assertTrue(Files.size(out.resolve("reconstruct.png")) > 200);
        assertEquals(2, Main.run("reconstruct", "--model", model.toString(), "--data", "idx:../shared/data/mnist",
                "--index", "10000", "--out", out.toString()));
        Path st = tmp.resolve("study");
        assertEquals(0, Main.run("reconstruct", "--model", model.toString(), "--data", "idx:../shared/data/mnist",
                "--targets", "2", "--samples", "2", "--max-steps", "2", "--baseline", "2", "--knn-images", "100",
                "--out", st.toString()));
        var sj = new com.fasterxml.jackson.databind.ObjectMapper().readTree(st.resolve("study.json").toFile());
        assertEquals(2, sj.get("runs").size());
        assertTrue(sj.get("chance_rate").asDouble() > 0.09 && sj.get("chance_rate").asDouble() < 0.12);
        assertEquals(2, Main.run("reconstruct", "--model", model.toString(), "--data", "idx:../shared/data/mnist",
                "--index", "1", "--targets", "2", "--out", st.toString()));
        Path sam = tmp.resolve("sam");
        assertEquals(0, Main.run("sample", "--model", model.toString(), "--samples", "3", "--max-steps", "3",
                "--out", sam.toString()));
        assertEquals(3, org.diffrep.data.Npy.read(sam.resolve("samples.npy")).shape()[0]);
        assertTrue(Files.size(sam.resolve("samples.png")) > 200);
    }
}
