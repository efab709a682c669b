package org.diffrep.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

/**
 * Model files that break the rules: NaN weights, configurations of the wrong type or absurd size,
 * tensor shapes that overflow, TorchScript archives that break the contract. Each is refused with an
 * {@link InvalidInputException} naming the file and the field, before LibTorch sees it.
 */
class HostileModelFilesTest {

    private static final String MLP = "{\"inputShape\":[1,3,3],\"depth\":1,\"width\":8,\"activation\":\"silu\","
            + "\"embedding\":\"sinusoidal\",\"embeddingDim\":4,\"parametrisation\":\"EDM\"}";
    private static final Path FIXTURE = Path.of("src/test/resources/torchscript/tiny_denoiser.pt");

    /** A model file whose tensors are those of a real MLP but whose configuration entry is {@code config}. */
    private static Path withConfig(Path dir, String name, String config) throws IOException {
        try (PointerScope s = new PointerScope()) {
            NetworkDenoiser net = ModelFiles.build("mlp", MLP, 1);
            Map<String, String> meta = ModelFiles.metadata(net, Map.of());
            meta.put(ModelFiles.CONFIG, config);
            Path f = dir.resolve(name);
            SafeTensors.write(f, net.stateTensors(), meta);
            return f;
        }
    }

    private static InvalidInputException refused(Path f) {
        return assertThrows(InvalidInputException.class, () -> {
            try (PointerScope s = new PointerScope()) {
                ModelFiles.load(f);
            }
        });
    }

    private static void assertNames(InvalidInputException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void nanWeightsAreRefusedNamingFileAndTensor(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("nan.safetensors");
        try (PointerScope s = new PointerScope()) {
            NetworkDenoiser net = ModelFiles.build("mlp", MLP, 1);
            try (NoGradGuard g = new NoGradGuard()) {
                net.stateTensors().get("enc_0.bias").fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
            }
            ModelFiles.save(net, f, Map.of());
        }
        assertNames(refused(f), f.toString(), "'enc_0.bias'", "NaN");
    }

    @Test
    void configurationFieldsAreCheckedByTypeAndRange(@TempDir Path dir) throws Exception {
        String where = "__metadata__." + ModelFiles.CONFIG;
        Path f = withConfig(dir, "str.safetensors", MLP.replace("\"width\":8", "\"width\":\"abc\""));
        assertNames(refused(f), f.toString(), where, "'width'", "integer", "\"abc\"");
        f = withConfig(dir, "missing.safetensors", MLP.replace("\"activation\":\"silu\",", ""));
        assertNames(refused(f), f.toString(), "lacks field 'activation'");
        f = withConfig(dir, "range.safetensors", MLP.replace("\"width\":8", "\"width\":3000000000"));
        assertNames(refused(f), f.toString(), "'width'", "3000000000");
        f = withConfig(dir, "activation.safetensors", MLP.replace("silu", "tanh"));
        assertNames(refused(f), f.toString(), "activation must be relu or silu", "'tanh'");
        f = withConfig(dir, "unknown.safetensors", MLP.replace("{", "{\"heads\":4,"));
        assertNames(refused(f), f.toString(), "'heads' is not part of a mlp configuration");
        f = withConfig(dir, "notjson.safetensors", "{\"depth\": ");
        assertNames(refused(f), f.toString(), where, "not JSON");
        f = withConfig(dir, "array.safetensors", "[1, 2]");
        assertNames(refused(f), f.toString(), "expected a JSON object");
        f = withConfig(dir, "parametrisation.safetensors", MLP.replace("\"EDM\"", "\"DDIM\""));
        assertNames(refused(f), f.toString(), "'parametrisation' must be EDM or VP");
    }

    @Test
    void absurdSizesAreRefusedBeforeAnythingIsAllocated(@TempDir Path dir) throws Exception {
        Path f = withConfig(dir, "wide.safetensors", MLP.replace("\"width\":8", "\"width\":2000000000"));
        assertNames(refused(f), f.toString(), "parameters", "the limit is");
        f = withConfig(dir, "shape.safetensors", MLP.replace("[1,3,3]", "[1,100000,100000]"));
        assertNames(refused(f), f.toString(), "inputShape", "10000000000 values per sample");
        f = withConfig(dir, "deep.safetensors", MLP.replace("\"depth\":1", "\"depth\":1000000"));
        assertNames(refused(f), f.toString(), "depth must be in [1, 1024]");
        String unet = "{\"inputShape\":[1,8,8],\"channels\":[100000000],\"blocks\":1,\"attention\":[],"
                + "\"embedding\":\"sinusoidal\",\"parametrisation\":\"EDM\"}";
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ModelFiles.parseConfig("unet", unet, "u.safetensors"));
        assertNames(e, "u.safetensors", "parameters", "the limit is");
    }

    @Test
    void tensorShapesThatOverflowAreAClearMessage(@TempDir Path dir) throws Exception {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path f = dir.resolve("overflow.safetensors");
        Files.write(f, ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> SafeTensors.read(f));
        assertNames(e, f.toString(), "tensor 'w'", "[4294967296,4294967296]");
        assertFalse(e.getMessage().contains("long overflow"), e.getMessage());
    }

    @Test
    void sizeEstimateCountsEveryParameter() {
        try (PointerScope s = new PointerScope()) {
            Record[] configs = {
                    new MlpDenoiser.Config(new long[]{1, 5, 5}, 3, 16, "relu", NoiseEmbedding.FOURIER, 6, Parametrisation.VP),
                    new MlpDenoiser.Config(new long[]{7}, 1, 4, "silu", NoiseEmbedding.SCALAR, 0, Parametrisation.EDM),
                    new UNet.Config(new long[]{1, 28, 28}, new int[]{8, 16, 16}, 2, new int[]{8},
                            NoiseEmbedding.SINUSOIDAL, Parametrisation.EDM),
                    new UNet.Config(new long[]{3, 12, 10}, new int[]{4, 12}, 1, new int[0],
                            NoiseEmbedding.FOURIER, Parametrisation.VP),
            };
            for (Record c : configs) {
                NetworkDenoiser net = ModelFiles.build(c, 0);
                long actual = net.parameterTensors().values().stream().mapToLong(Tensor::numel).sum();
                assertEquals(actual, ModelSize.of(c).parameters(), 0.0, c.toString());
                assertTrue(ModelSize.of(c).activationsPerSample() > 0);
            }
        }
    }

    @Test
    void attentionWithChannelsNotAMultipleOf64Works() {
        InvalidInputException odd = assertThrows(InvalidInputException.class, () -> new UNet.Config(
                new long[]{1, 4, 4}, new int[]{9}, 1, new int[0], NoiseEmbedding.SINUSOIDAL, Parametrisation.EDM));
        assertTrue(odd.getMessage().contains("must be even"), odd.getMessage());
        // 130 channels: two heads of 65; 129 channels used to give 2 heads that do not divide it
        try (PointerScope s = new PointerScope()) {
            for (int c : new int[]{129, 130}) {
                UNet net = (UNet) ModelFiles.build(new UNet.Config(new long[]{1, 4, 4}, new int[]{8, c}, 1, new int[0],
                        NoiseEmbedding.SINUSOIDAL, Parametrisation.EDM), 0);
                Tensor y = net.denoise(torch.randn(2, 1, 4, 4), Tensors.fromFloats(new float[]{0.5f, 1f}));
                assertEquals(32, y.numel());
            }
        }
    }

    // ---- TorchScript: archives rewritten from the shipped fixture ----

    /**
     * A copy of the TorchScript fixture with its wrapper's source rewritten by {@code code} and
     * entries replaced by {@code replace} (name suffix to bytes). LibTorch compiles the source in the
     * archive when it loads it, so this makes a module that breaks the contract without PyTorch.
     */
    private static Path rewritten(Path dir, String name, Function<String, String> code, Map<String, byte[]> replace)
            throws IOException {
        Path out = dir.resolve(name);
        try (ZipFile zip = new ZipFile(FIXTURE.toFile());
             OutputStream os = Files.newOutputStream(out);
             ZipOutputStream z = new ZipOutputStream(os)) {
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                byte[] b = zip.getInputStream(e).readAllBytes();
                if (e.getName().endsWith("/code/__torch__.py.debug_pkl") && code != null) {
                    continue; // its source ranges would not match the new code
                }
                if (e.getName().endsWith("/code/__torch__.py") && code != null) {
                    String src = new String(b, StandardCharsets.UTF_8);
                    String changed = code.apply(src);
                    assertFalse(changed.equals(src), "the rewrite changed nothing");
                    b = changed.getBytes(StandardCharsets.UTF_8);
                }
                for (Map.Entry<String, byte[]> r : replace.entrySet()) {
                    if (e.getName().endsWith(r.getKey())) {
                        b = r.getValue();
                    }
                }
                ZipEntry n = new ZipEntry(e.getName());
                n.setMethod(ZipEntry.STORED);
                n.setSize(b.length);
                CRC32 crc = new CRC32();
                crc.update(b);
                n.setCrc(crc.getValue());
                z.putNextEntry(n);
                z.write(b);
                z.closeEntry();
            }
        }
        return out;
    }

    private static InvalidInputException forwardRefused(Path f) {
        return assertThrows(InvalidInputException.class, () -> {
            try (PointerScope s = new PointerScope()) {
                Denoiser d = ModelFiles.load(f);
                d.forward(torch.randn(3, 1, 28, 28), Tensors.fromFloats(new float[]{0.1f, 1f, 2f}),
                        Set.of("enc", "mid"), true);
            }
        });
    }

    private static final String RESULT = "_3 = {\"denoised\": _0, \"enc\": _1, \"mid\": _2}";

    @Test
    void torchScriptThatBreaksTheContractIsRefusedOnTheFirstBatch(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(FIXTURE), "no TorchScript fixture at " + FIXTURE);
        Path same = rewritten(dir, "same.pt", null, Map.of());
        try (PointerScope s = new PointerScope()) {
            Denoiser d = ModelFiles.load(same);
            assertEquals(Set.of("enc", "mid"), d.forward(torch.randn(3, 1, 28, 28),
                    Tensors.fromFloats(new float[]{0.1f, 1f, 2f}), Set.of("enc", "mid"), true).taps().keySet());
        }
        Path batch1 = rewritten(dir, "batch1.pt", c -> c.replace("\"enc\": _1,", "\"enc\": torch.slice(_1, 0, 0, 1),"),
                Map.of());
        assertNames(forwardRefused(batch1), batch1.toString(), "tap 'enc'", "[1, 8, 28, 28]", "batch of 3");
        Path ints = rewritten(dir, "ints.pt", c -> c.replace("-> Dict[str, Tensor]:", "-> Dict[str, int]:")
                .replace(RESULT, "_3 = {\"denoised\": 1, \"enc\": 2, \"mid\": 3}"), Map.of());
        assertNames(forwardRefused(ints), ints.toString(), "Int for 'denoised', not a Tensor", "Dict[str, Tensor]");
        Path oneArg = rewritten(dir, "onearg.pt", c -> c.replace("x: Tensor,\n    sigma: Tensor) ->", "x: Tensor) ->")
                .replace("(net).forward(sigma, x, )", "(net).forward(x, x, )"), Map.of());
        assertNames(forwardRefused(oneArg), oneArg.toString(), "forward(x, sigma) failed on the first batch");
        assertFalse(forwardRefused(oneArg).getMessage().contains("Exception raised from"));
        Path noDenoised = rewritten(dir, "nodenoised.pt", c -> c.replace(RESULT, "_3 = {\"enc\": _1, \"mid\": _2}"),
                Map.of());
        assertNames(forwardRefused(noDenoised), noDenoised.toString(), "did not return 'denoised'");
        Path wrongShape = rewritten(dir, "shape.pt", c -> c.replace(RESULT, "_3 = {\"denoised\": _1, \"enc\": _1, \"mid\": _2}"),
                Map.of());
        assertNames(forwardRefused(wrongShape), wrongShape.toString(), "'denoised' is float [3, 8, 28, 28]",
                "input's shape");
    }

    @Test
    void torchScriptWithNanWeightsOrBadMetadataIsRefusedOnLoad(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(FIXTURE), "no TorchScript fixture at " + FIXTURE);
        ByteArrayOutputStream nan = new ByteArrayOutputStream();
        for (int i = 0; i < 72; i++) { // data/0 is the first conv's weight, 72 floats
            nan.write(new byte[]{0, 0, (byte) 0xc0, 0x7f});
        }
        Path f = rewritten(dir, "nan.pt", null, Map.of("/data/0", nan.toByteArray()));
        assertNames(refused(f), f.toString(), "'net.enc.0.weight'", "NaN");
        Map<String, byte[]> meta = new LinkedHashMap<>();
        meta.put("/extra/diffrep.json", "{\"input_shape\": [1, \"a\", 28], \"taps\": [\"enc\", \"mid\"]}"
                .getBytes(StandardCharsets.UTF_8));
        f = rewritten(dir, "meta.pt", null, meta);
        assertNames(refused(f), f.toString(), "'input_shape'", "[1,\"a\",28]");
        meta.put("/extra/diffrep.json", "{\"input_shape\": [1, 28, 28], \"taps\": [\"enc\", \"enc\"]}"
                .getBytes(StandardCharsets.UTF_8));
        f = rewritten(dir, "taps.pt", null, meta);
        assertNames(refused(f), f.toString(), "'taps'", "distinct");
    }
}
