package org.diffrep.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

class ModelFilesTest {

    private static NetworkDenoiser mlp() {
        return ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(new MlpDenoiser.Config(
                new long[]{1, 3, 3}, 2, 8, "silu", NoiseEmbedding.FOURIER, 4, Parametrisation.EDM))), 5);
    }

    @Test
    void unetRoundTripIsBitExactAndKeepsMetadata(@TempDir Path dir) throws Exception {
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(3);
            UNet net = new UNet(new UNet.Config(new long[]{3, 8, 8}, new int[]{8, 16}, 1, new int[]{4},
                    NoiseEmbedding.SINUSOIDAL, Parametrisation.VP));
            Path f = dir.resolve("u.safetensors");
            ModelFiles.save(net, f, Map.of("data", "test", "steps", 0));
            Denoiser back = ModelFiles.load(f);
            assertTrue(back instanceof UNet);
            Map<String, Tensor> a = net.stateTensors();
            Map<String, Tensor> b = ((UNet) back).stateTensors();
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) {
                assertTrue(torch.equal(a.get(k), b.get(k)), k);
            }
            Tensor x = torch.randn(2, 3, 8, 8);
            Tensor sigma = Tensors.fromFloats(new float[]{0.3f, 2f});
            assertTrue(torch.equal(net.denoise(x, sigma), back.denoise(x, sigma)));
            SafeTensors.Contents c = SafeTensors.read(f);
            assertEquals("unet", c.metadata().get(ModelFiles.KIND));
            assertTrue(c.metadata().get(ModelFiles.PROVENANCE).contains("\"data\":\"test\""));
            assertTrue(Files.list(dir).allMatch(p -> p.equals(f)), "no temporary files left behind");
        }
    }

    @Test
    void truncatedFileIsRefused(@TempDir Path dir) throws Exception {
        Path f = saved(dir);
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, b.length - 10));
        assertRefused(f, "data bytes");
        Files.write(f, Arrays.copyOf(b, 5));
        assertRefused(f, "shorter than the 8-byte header length");
    }

    @Test
    void corruptHeaderIsRefused(@TempDir Path dir) throws Exception {
        Path f = saved(dir);
        byte[] b = Files.readAllBytes(f);
        b[9] = '#';
        Files.write(f, b);
        assertRefused(f, "not valid JSON");
        byte[] c = Files.readAllBytes(saved(dir));
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(f, c);
        assertRefused(f, "header length");
    }

    @Test
    void wrongShapeIsRefusedNamingTheTensor(@TempDir Path dir) throws Exception {
        try (PointerScope s = new PointerScope()) {
            NetworkDenoiser m = mlp();
            Map<String, Tensor> t = m.stateTensors();
            t.put("enc_0.weight", torch.zeros(8, 5));
            Path f = dir.resolve("w.safetensors");
            SafeTensors.write(f, t, ModelFiles.metadata(m, Map.of()));
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFiles.load(f));
            assertTrue(e.getMessage().contains("enc_0.weight") && e.getMessage().contains("[8, 5]"), e.getMessage());
        }
    }

    @Test
    void badOffsetsAndDtypesAreRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("o.safetensors");
        byte[] data = new byte[16];
        write(f, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", data);
        assertRefused(f, "contiguous");
        write(f, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,24]}}", data);
        assertRefused(f, "outside");
        write(f, "{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data);
        assertRefused(f, "dtype I64");
        write(f, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", data);
        assertRefused(f, "needs 12");
    }

    @Test
    void halfPrecisionIsConverted(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("h.safetensors");
        // 1.0 and -2.0 as IEEE half: 0x3C00, 0xC000 (little-endian)
        write(f, "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                new byte[]{0x00, 0x3C, 0x00, (byte) 0xC0});
        try (PointerScope s = new PointerScope()) {
            float[] v = Tensors.toFloats(SafeTensors.read(f).tensors().get("a"));
            assertEquals(1.0f, v[0]);
            assertEquals(-2.0f, v[1]);
        }
    }

    private static Path saved(Path dir) throws Exception {
        try (PointerScope s = new PointerScope()) {
            Path f = dir.resolve("m.safetensors");
            ModelFiles.save(mlp(), f, Map.of());
            return f;
        }
    }

    private static void write(Path f, String header, byte[] data) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.write(f, b.array());
    }

    private static void assertRefused(Path f, String expected) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFiles.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(expected), e.getMessage());
    }
}
