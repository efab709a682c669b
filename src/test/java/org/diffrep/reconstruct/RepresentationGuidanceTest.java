package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.cli.Main;
import org.diffrep.model.MlpDenoiser;
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
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    static NetworkDenoiser evalUNet() {
        NetworkDenoiser net = tinyUNet();
        net.train(false);
        return net;
    }

    /** Real MNIST digits first .. first + count - 1 as a batch [count, 1, 28, 28]. */
    static Tensor digits(int first, int count) throws Exception {
        float[] px = StochasticSamplerTest.digits(first + count);
        return Tensors.fromFloats(Arrays.copyOfRange(px, first * 784, (first + count) * 784), count, 1, 28, 28);
    }

    /** A small step against the correction lowers every sample's representation distance to the target. */
    @Test
    void correctionIsADescentDirection() throws Exception {
        NetworkDenoiser net = evalUNet();
        try (PointerScope s = new PointerScope()) {
            Tensor target = digits(0, 1);
            Tensor y = digits(1, 2);
            RepresentationGuidance g = new RepresentationGuidance(net, "mid", target, 1.0)
                    .withMatch(RepresentationGuidance.Match.CLEAN, 1, 1.0, 0);
            Tensor sigma = Tensors.fromFloats(new float[]{0.5f, 0.5f});
            Tensor c = g.correction(y, sigma);
            double[] before = g.distances(y, 0.5f);
            // unit RMS step of 0.01 per sample along -c
            Tensor norm = c.reshape(2, 784).norm(new ScalarOptional(new Scalar(2.0)), 1)
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

    /**
     * DENOISED: a small step against the correction lowers || m(D(y; sigma); s) - m(x*; s) ||, the
     * distance between the representations of the denoised samples and of the target at s.
     */
    @Test
    void denoisedMatchDescendsThroughTheDenoiser() throws Exception {
        NetworkDenoiser net = evalUNet();
        try (PointerScope s = new PointerScope()) {
            Tensor target = digits(0, 1);
            Tensor clean = digits(1, 2);
            Tensor y = clean.add(torch.randn(2, 1, 28, 28).mul(new Scalar(0.8)));
            Tensor sigma = Tensors.fromFloats(new float[]{0.8f, 0.8f});
            RepresentationGuidance g = new RepresentationGuidance(net, "mid", target, 1.0)
                    .withMatch(RepresentationGuidance.Match.DENOISED, 1, 2.0, 0);
            Tensor c = g.correction(y, sigma);
            Tensor norm = c.reshape(2, 784).norm(new ScalarOptional(new Scalar(2.0)), 1).reshape(2, 1, 1, 1);
            Tensor moved = y.sub(c.div(norm).mul(new Scalar(0.01 * 28)));
            double[] before = denoisedDistances(net, y, sigma, target, 2f);
            double[] after = denoisedDistances(net, moved, sigma, target, 2f);
            for (int b = 0; b < 2; b++) {
                assertTrue(after[b] < before[b], "sample " + b + ": " + before[b] + " -> " + after[b]);
            }
        }
    }

    private static double[] denoisedDistances(NetworkDenoiser net, Tensor y, Tensor sigma, Tensor target, float s) {
        try (NoGradGuard off = new NoGradGuard()) {
            Tensor at = Tensors.fromFloats(new float[]{s, s});
            Tensor r = Representation.of(net, "mid", net.denoise(y, sigma), at);
            Tensor t = Representation.of(net, "mid", target.repeat(2, 1, 1, 1), at);
            float[] d = Tensors.toFloats(r.sub(t).pow(new Scalar(2)).sum(1));
            return new double[]{d[0], d[1]};
        }
    }

    /**
     * NOISY encodes the target as the mean representation of noisy copies: at a vanishing sigma it is
     * the clean encoding; at sigma 3 two independent 256-draw estimates agree with each other far
     * better than with the clean encoding, and a seed repeats its draws exactly.
     */
    @Test
    void noisyTargetIsTheMeanOverNoisyCopies() throws Exception {
        // an MLP's ReLU units: their mean over noisy copies differs clearly from their clean value
        // (the untrained UNet's group-normalised mid means hardly depend on the input at all)
        torch.manual_seed(0);
        NetworkDenoiser net = new MlpDenoiser(new MlpDenoiser.Config(new long[]{1, 28, 28}, 1, 64, "relu",
                NoiseEmbedding.SINUSOIDAL, 16, Parametrisation.EDM));
        net.train(false);
        float[] px = StochasticSamplerTest.digits(1);
        try (PointerScope s = new PointerScope()) {
            Tensor target = Tensors.fromFloats(px, 1, 1, 28, 28);
            Tensor tiny = Tensors.fromFloats(new float[]{1e-5f});
            Tensor half = Tensors.fromFloats(new float[]{3f});
            RepresentationGuidance clean = new RepresentationGuidance(net, "enc.0", target, 1)
                    .withMatch(RepresentationGuidance.Match.CLEAN, 1, 1.0, 0);
            float[] a = Tensors.toFloats(noisy(net, target, 256, 1).targetRepresentation(1, half));
            float[] b = Tensors.toFloats(noisy(net, target, 256, 2).targetRepresentation(1, half));
            float[] again = Tensors.toFloats(noisy(net, target, 256, 1).targetRepresentation(1, half));
            float[] c = Tensors.toFloats(clean.targetRepresentation(1, half));
            assertArrayEquals(a, again);
            assertTrue(distance(a, b) < 0.5 * distance(a, c), distance(a, b) + " vs " + distance(a, c));
            assertArrayEquals(Tensors.toFloats(clean.targetRepresentation(1, tiny)),
                    Tensors.toFloats(noisy(net, target, 4, 3).targetRepresentation(1, tiny)), 1e-3f);
        }
    }

    private static RepresentationGuidance noisy(NetworkDenoiser net, Tensor target, int draws, long seed) {
        return new RepresentationGuidance(net, "enc.0", target, 1).withMatch(RepresentationGuidance.Match.NOISY, draws, 1.0, seed);
    }

    private static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    /** Below --guide-until a sample gets no pull; the others keep theirs. */
    @Test
    void noPullBelowTheFloor() throws Exception {
        NetworkDenoiser net = evalUNet();
        try (PointerScope s = new PointerScope()) {
            Tensor target = digits(0, 1);
            Tensor y = digits(1, 2);
            RepresentationGuidance g = new RepresentationGuidance(net, "mid", target, 1.0)
                    .withMatch(RepresentationGuidance.Match.DENOISED, 1, 2.0, 0).until(0.3);
            float[] c = Tensors.toFloats(g.correction(y, Tensors.fromFloats(new float[]{0.5f, 0.2f})));
            double first = 0, second = 0;
            for (int i = 0; i < 784; i++) {
                first += Math.abs(c[i]);
                second += Math.abs(c[784 + i]);
            }
            assertTrue(first > 0, "the sample above the floor is pulled");
            assertEquals(0.0, second);
            float[] none = Tensors.toFloats(g.correction(y, Tensors.fromFloats(new float[]{0.1f, 0.2f})));
            for (float v : none) {
                assertEquals(0f, v);
            }
            assertThrows(InvalidInputException.class, () -> g.until(-1));
        }
    }

    @Test
    void badMatchSettingsAreRefused() {
        NetworkDenoiser net = tinyUNet();
        try (PointerScope s = new PointerScope()) {
            RepresentationGuidance g = new RepresentationGuidance(net, "mid", torch.zeros(1, 1, 28, 28), 1);
            assertThrows(InvalidInputException.class, () -> g.withMatch(RepresentationGuidance.Match.NOISY, 0, 1, 0));
            assertThrows(InvalidInputException.class, () -> g.withMatch(RepresentationGuidance.Match.DENOISED, 1, 0, 0));
            assertThrows(InvalidInputException.class, () -> g.withMatch(RepresentationGuidance.Match.DENOISED, 1, Double.NaN, 0));
        }
    }

    @Test
    void unknownTapIsRefused() {
        NetworkDenoiser net = tinyUNet();
        try (PointerScope s = new PointerScope()) {
            var e = assertThrows(InvalidInputException.class,
                    () -> new RepresentationGuidance(net, "middle", torch.zeros(1, 1, 28, 28), 1));
            assertTrue(e.getMessage().startsWith("tap 'middle': the model has taps ["), e.getMessage());
        }
    }

    @Test
    void reconstructCommandWritesMontageAndDistances(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("tiny.safetensors");
        ModelFiles.save(tinyUNet(), model, Map.of("note", "untrained, for wiring tests"));
        Path out = tmp.resolve("rec");
        assertEquals(0, Main.run("reconstruct", "--model", model.toString(), "--data", "builtin:mnist",
                "--index", "7", "--samples", "2", "--max-steps", "4", "--baseline", "3", "--out", out.toString()));
        var j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("reconstruct.json").toFile());
        assertEquals(2, j.get("sample_distances").size());
        assertEquals(3, j.get("baseline_distances").size());
        assertTrue(Files.size(out.resolve("reconstruct.png")) > 200);
        assertEquals(2, Main.run("reconstruct", "--model", model.toString(), "--data", "builtin:mnist",
                "--index", "10000", "--out", out.toString()));
        Path st = tmp.resolve("study");
        assertEquals(0, Main.run("reconstruct", "--model", model.toString(), "--data", "builtin:mnist",
                "--targets", "2", "--samples", "2", "--max-steps", "2", "--baseline", "2", "--knn-images", "100",
                "--out", st.toString()));
        var sj = new com.fasterxml.jackson.databind.ObjectMapper().readTree(st.resolve("study.json").toFile());
        assertEquals(2, sj.get("runs").size());
        assertArrayEquals(new long[]{2, 2, 1, 28, 28}, org.diffrep.io.Npy.read(st.resolve("samples.npy")).shape());
        // targets run on worker threads: a second run gives the same samples, byte for byte
        Path again = tmp.resolve("study-again");
        assertEquals(0, Main.run("reconstruct", "--model", model.toString(), "--data", "builtin:mnist",
                "--targets", "2", "--samples", "2", "--max-steps", "2", "--baseline", "2", "--knn-images", "100",
                "--threads", "2", "--out", again.toString()));
        assertArrayEquals(Files.readAllBytes(st.resolve("samples.npy")), Files.readAllBytes(again.resolve("samples.npy")));
        assertArrayEquals(new long[]{2}, org.diffrep.io.Npy.read(st.resolve("targets.npy")).shape());
        assertArrayEquals(new long[]{2, 2}, org.diffrep.io.Npy.read(st.resolve("predicted.npy")).shape());
        double byRep = sj.get("representation_match_rate").asDouble();
        assertTrue(byRep >= 0 && byRep <= 1, "representation_match_rate " + byRep);
        double onTargets = sj.get("representation_accuracy_on_targets").asDouble();
        assertTrue(onTargets >= 0 && onTargets <= 1, "representation_accuracy_on_targets " + onTargets);
        assertEquals(2, sj.get("runs").get(0).get("representation_classes").size());
        assertTrue(sj.get("chance_rate").asDouble() > 0.09 && sj.get("chance_rate").asDouble() < 0.12);
        assertEquals(2, Main.run("reconstruct", "--model", model.toString(), "--data", "builtin:mnist",
                "--index", "1", "--targets", "2", "--out", st.toString()));
        assertEquals(0, Main.run("reconstruct", "--model", model.toString(), "--data", "builtin:mnist",
                "--index", "3", "--samples", "2", "--max-steps", "3", "--baseline", "2", "--match", "noisy",
                "--target-draws", "2", "--metric", "euclidean", "--out", tmp.resolve("noisy").toString()));
        var nj = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("noisy/reconstruct.json").toFile());
        assertEquals("noisy", nj.get("guidance").get("match").asText());
        assertEquals("euclidean", nj.get("guidance").get("metric").asText());
        for (String[] bad : new String[][]{{"--match", "pixels"}, {"--match-sigma", "0"}, {"--target-draws", "0"},
                {"--guidance", "-1"}, {"--rep-sigma", "0"}}) {
            assertEquals(2, Main.run("reconstruct", "--model", model.toString(), "--data", "builtin:mnist",
                    "--index", "3", bad[0], bad[1], "--out", tmp.resolve("bad").toString()), String.join(" ", bad));
        }
        Path sam = tmp.resolve("sam");
        assertEquals(0, Main.run("sample", "--model", model.toString(), "--samples", "3", "--max-steps", "3",
                "--out", sam.toString()));
        assertEquals(3, org.diffrep.io.Npy.read(sam.resolve("samples.npy")).shape()[0]);
        assertTrue(Files.size(sam.resolve("samples.png")) > 200);
    }
}
