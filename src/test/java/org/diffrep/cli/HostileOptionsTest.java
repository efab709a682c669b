package org.diffrep.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import org.diffrep.data.DataSpec;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.SafeTensors;

/**
 * Hostile options and files through the command line: every one exits with 2 and one line on stderr
 * that names the option or file, with no stack trace, and leaves no result behind. Data: a small
 * MoLRG set (synthetic, images [1, 1, 16]).
 */
class HostileOptionsTest {

    private static final String DATA = "molrg:n=16,d=2,K=2,delta=0.2,samples=120,seed=0";

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    /** Exit 2, a message on stderr that starts with {@code prefix} and holds {@code parts}, no stack trace. */
    private static CliRun refused(String prefix, List<String> parts, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--threads";
        all[1] = "1";
        System.arraycopy(args, 0, all, 2, args.length);
        CliRun r = run(all);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.message().startsWith(prefix), "expected '" + prefix + "...', got: " + r.err());
        for (String p : parts) {
            assertTrue(r.message().contains(p), "'" + p + "' missing from: " + r.message());
        }
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception") || r.err().contains("Exception raised from"),
                "no stack trace: " + r.err());
        return r;
    }

    private static Path model(Path dir, String name, double scale, boolean nan) throws Exception {
        try (PointerScope s = new PointerScope()) {
            NetworkDenoiser net = ModelFiles.build(new MlpDenoiser.Config(new long[]{1, 1, 16}, 1, 16, "silu",
                    NoiseEmbedding.SINUSOIDAL, 8, Parametrisation.EDM), 1);
            try (NoGradGuard g = new NoGradGuard()) {
                for (Map.Entry<String, Tensor> t : net.parameterTensors().entrySet()) {
                    t.getValue().mul_(new Scalar(scale));
                }
                if (nan) {
                    net.parameterTensors().get("head.weight").fill_(new Scalar(Double.NaN));
                }
            }
            Path f = dir.resolve(name);
            ModelFiles.save(net, f, Map.of());
            return f;
        }
    }

    @Test
    void trainRefusesAbsurdSizesBeforeReadingData(@TempDir Path dir) {
        Path out = dir.resolve("m.safetensors");
        refused("diffrep train: --batch 100000000: ", List.of("the limit is"),
                "train", "--data", DATA, "--model", "mlp", "--batch", "100000000", "--out", out.toString());
        refused("diffrep train: --channels 100000000 ", List.of("parameters", "the limit is"),
                "train", "--data", DATA, "--channels", "100000000", "--out", out.toString());
        refused("diffrep train: --depth 3 --width 2000000000 ", List.of("the limit is"),
                "train", "--data", DATA, "--model", "mlp", "--width", "2000000000", "--out", out.toString());
        refused("diffrep train: mlp: --depth must be in [1, 1024]", List.of(),
                "train", "--data", DATA, "--model", "mlp", "--depth", "100000000", "--out", out.toString());
        refused("diffrep train: --lr must be finite", List.of(),
                "train", "--data", DATA, "--model", "mlp", "--lr", "Infinity", "--out", out.toString());
        assertFalse(Files.exists(out));
    }

    @Test
    void trainThatDivergesSavesNoModel(@TempDir Path dir) {
        Path out = dir.resolve("m.safetensors");
        refused("diffrep train: --lr 1.0E30: training diverged: ", List.of("step", "Nothing was saved"),
                "train", "--data", DATA, "--model", "mlp", "--depth", "1", "--width", "16", "--steps", "10", "--batch", "8",
                "--warmup", "0", "--lr", "1e30", "--eval-sigma", "0", "--out", out.toString());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("m.safetensors.ckpt")));
    }

    @Test
    void outputsAreCheckedBeforeAnyWork(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        refused("diffrep train: --out " + dir + ": is a directory", List.of(),
                "train", "--data", "no-such-spec:x", "--out", dir.toString());
        refused("diffrep train: --out " + file.resolve("m.safetensors"), List.of("is a file"),
                "train", "--data", "no-such-spec:x", "--out", file.resolve("m.safetensors").toString());
        refused("diffrep sae train: --out " + file.resolve("s.safetensors"), List.of("is a file"),
                "sae", "train", "--features", dir.resolve("none").toString(), "--layer", "x",
                "--out", file.resolve("s.safetensors").toString());
        refused("diffrep sample: --out " + file, List.of("not a directory"),
                "sample", "--model", dir.resolve("none.safetensors").toString(), "--out", file.toString());
        Path readOnly = Files.createDirectory(dir.resolve("ro"));
        assertTrue(readOnly.toFile().setWritable(false, false));
        try {
            if (!Files.isWritable(readOnly)) { // root may write anywhere: then there is nothing to test
                refused("diffrep train: --out " + readOnly.resolve("m.safetensors"), List.of("cannot write"),
                        "train", "--data", "no-such-spec:x", "--out", readOnly.resolve("m.safetensors").toString());
            }
        } finally {
            readOnly.toFile().setWritable(true, false);
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file, readOnly), files.sorted().toList(), "nothing was created");
        }
    }

    @Test
    void sampleAndReconstructRefuseBadModelsAndSizes(@TempDir Path dir) throws Exception {
        Path good = model(dir, "good.safetensors", 1, false);
        Path nan = model(dir, "nan.safetensors", 1, true);
        Path huge = model(dir, "huge.safetensors", 1e30, false);
        Path out = dir.resolve("out");
        refused("diffrep sample: --samples 100000000: ", List.of("[1, 1, 16]"),
                "sample", "--model", good.toString(), "--samples", "100000000", "--out", out.toString());
        refused("diffrep sample: " + nan + ": tensor 'head.weight' holds", List.of("NaN"),
                "sample", "--model", nan.toString(), "--out", out.toString());
        refused("diffrep sample: " + huge + ": the denoised estimate of sample 0 is NaN or infinite at step 1",
                List.of(), "sample", "--model", huge.toString(), "--samples", "2", "--out", out.toString());
        refused("diffrep reconstruct: " + huge + ": the denoised estimate", List.of("NaN or infinite"),
                "reconstruct", "--model", huge.toString(), "--data", DATA, "--index", "0", "--samples", "2",
                "--tap", "enc.0", "--metric", "euclidean", "--out", out.toString());
        assertFalse(Files.exists(out), "nothing written");
        CliRun ok = run("--threads", "1", "sample", "--model", good.toString(), "--samples", "2", "--max-steps", "5",
                "--out", out.toString());
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void saeCommandsRefuseAbsurdSizesNanWeightsAndBadMetadata(@TempDir Path dir) throws Exception {
        Path store = dir.resolve("store");
        try (PointerScope s = new PointerScope()) {
            NetworkDenoiser m = ModelFiles.build(new MlpDenoiser.Config(new long[]{1, 1, 16}, 1, 16, "silu",
                    NoiseEmbedding.SINUSOIDAL, 8, Parametrisation.EDM), 3);
            ExtractConfig cfg = ExtractConfig.builder().data(DATA).out(store).layers(List.of("enc.0"))
                    .sigmas(0.1f, 1.0f).limit(100).batch(50).shardSize(100).seed(7).build();
            new Extractor(cfg).log(null).run(m, "mlp-seed-3", DataSpec.open(DATA));
        }
        Path sae = dir.resolve("sae.safetensors");
        refused("diffrep sae train: --latents 2000000000 --batch ", List.of("the limit is"),
                "sae", "train", "--features", store.toString(), "--layer", "enc.0", "--sigma", "1.0",
                "--latents", "2000000000", "--out", sae.toString());
        refused("diffrep sae train: --lr 1.0E30: SAE training diverged", List.of("Nothing was saved"),
                "sae", "train", "--features", store.toString(), "--layer", "enc.0", "--sigma", "1.0",
                "--latents", "16", "--k", "4", "--steps", "20", "--warmup", "0", "--lr", "1e30", "--out", sae.toString());
        assertFalse(Files.exists(sae));
        CliRun ok = run("--threads", "1", "sae", "train", "--features", store.toString(), "--layer", "enc.0",
                "--sigma", "1.0", "--latents", "16", "--k", "4", "--steps", "20", "--batch", "16", "--out", sae.toString());
        assertEquals(0, ok.code(), ok.err());

        // weights so large that the codes overflow to infinity: no store of them is marked complete
        SafeTensors.Contents c = SafeTensors.read(sae);
        Map<String, Tensor> tensors = new LinkedHashMap<>(c.tensors());
        tensors.put("W_enc", tensors.get("W_enc").mul(new Scalar(1e38)));
        Path huge = dir.resolve("huge.safetensors");
        SafeTensors.write(huge, tensors, c.metadata());
        Path codes = dir.resolve("codes");
        refused("diffrep sae encode: " + huge + ": the codes of rows 0 to ", List.of("NaN or infinite", "left incomplete"),
                "sae", "encode", "--sae", huge.toString(), "--features", store.toString(), "--out", codes.toString());
        assertFalse(Files.readString(codes.resolve("manifest.json")).contains("\"complete\" : true"));
        refused("diffrep sae inspect: " + huge + ": the codes of rows 0 to ", List.of("NaN or infinite"),
                "sae", "inspect", "--sae", huge.toString(), "--features", store.toString(), "--data", DATA,
                "--out", dir.resolve("page").toString());
        assertFalse(Files.exists(dir.resolve("page")));

        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        meta.put("sigma", "abc");
        Path badSigma = dir.resolve("sigma.safetensors");
        SafeTensors.write(badSigma, c.tensors(), meta);
        refused("diffrep sae encode: " + badSigma + ": metadata 'sigma' must be a number, found 'abc'", List.of(),
                "sae", "encode", "--sae", badSigma.toString(), "--features", store.toString(),
                "--out", dir.resolve("codes2").toString());
    }


    @Test
    void libTorchErrorsThatGetThroughAreOneLine() {
        CommandLine cl = new CommandLine(new Main());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        RuntimeException e = new RuntimeException("The size of tensor a (3) must match the size of tensor b (4) at "
                + "non-singleton dimension 1\nException raised from infer_size_impl at /pytorch/aten/src/ATen/"
                + "ExpandUtils.cpp:31 (most recent call first):\nframe #0: c10::Error::Error(...) + 0x8a");
        int code = new ErrorHandler().handleExecutionException(e, cl, null);
        assertEquals(ErrorHandler.RUNTIME_ERROR, code);
        String first = err.toString().lines().findFirst().orElse("");
        assertEquals("diffrep: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
                first);
        assertFalse(err.toString().contains("Exception raised from") || err.toString().contains("frame #"), err.toString());
    }
}
