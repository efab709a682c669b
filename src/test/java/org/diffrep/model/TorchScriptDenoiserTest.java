package org.diffrep.model;

import org.diffrep.io.Npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

class TorchScriptDenoiserTest {

    /** Made by tools/export_torchscript.py when PyTorch is at hand (see docs/MODELS.md). */
    private static final Path FIXTURE = Path.of("src/test/resources/torchscript/tiny_denoiser.pt");

    @Test
    void shippedFileFollowsTheContractAndMatchesPyTorch() {
        assumeTrue(Files.isRegularFile(FIXTURE), "no TorchScript fixture at " + FIXTURE
                + " (PyTorch was not available to make one); skipping");
        Path dir = FIXTURE.getParent();
        try (PointerScope s = new PointerScope()) {
            Denoiser d = ModelFiles.load(FIXTURE);
            assertTrue(d instanceof TorchScriptDenoiser);
            assertEquals(java.util.List.of("enc", "mid"), d.taps());
            assertArrayEquals(new long[]{1, 28, 28}, d.inputShape());
            // The reference: the same file run by PyTorch 1.13 on the same inputs (make_fixture.sh).
            Npy.Array x = Npy.read(dir.resolve("ref_x.npy"));
            Tensor xt = Tensors.fromFloats(x.toFloats(), x.shape());
            Tensor sigma = Tensors.fromFloats(Npy.read(dir.resolve("ref_sigma.npy")).toFloats());
            Denoiser.Output o = d.forward(xt, sigma, Set.copyOf(d.taps()), true);
            assertClose(Npy.read(dir.resolve("ref_denoised.npy")), o.denoised());
            assertClose(Npy.read(dir.resolve("ref_enc.npy")), o.taps().get("enc"));
            assertClose(Npy.read(dir.resolve("ref_mid.npy")), o.taps().get("mid"));
            Denoiser.Output onlyMid = d.forward(xt, sigma, Set.of("mid"), false);
            assertEquals(Set.of("mid"), onlyMid.taps().keySet(), "taps not asked for are dropped");
        }
    }

    private static void assertClose(Npy.Array expected, Tensor actual) {
        assertArrayEquals(expected.shape(), Tensors.shape(actual), "shape");
        float[] e = expected.toFloats(), a = Tensors.toFloats(actual);
        double max = 0;
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i] - a[i]));
        }
        assertTrue(max < 1e-5, "max abs difference to PyTorch " + max);
    }

    @Test
    void archiveWithoutDiffrepMetadataIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("plain.pt");
        try (OutputStream out = Files.newOutputStream(f); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("plain/data.pkl"));
            zip.write("x".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFiles.load(f));
        assertTrue(e.getMessage().contains("extra/diffrep.json") && e.getMessage().contains(f.toString()),
                e.getMessage());
    }

    @Test
    void garbageArchiveIsRefusedByTheLoader(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.pt");
        try (OutputStream out = Files.newOutputStream(f); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("bad/extra/diffrep.json"));
            zip.write("{\"input_shape\":[4],\"taps\":[]}".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFiles.load(f));
        assertTrue(e.getMessage().contains("not a loadable TorchScript archive"), e.getMessage());
    }
}
