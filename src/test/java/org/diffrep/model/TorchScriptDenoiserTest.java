package org.diffrep.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
    void shippedFileFollowsTheContract() {
        assumeTrue(Files.isRegularFile(FIXTURE), "no TorchScript fixture at " + FIXTURE
                + " (PyTorch was not available to make one); skipping");
        try (PointerScope s = new PointerScope()) {
            Denoiser d = ModelFiles.load(FIXTURE);
            assertTrue(d instanceof TorchScriptDenoiser);
            assertFalse(d.taps().isEmpty());
            long[] shape = d.inputShape();
            long[] batch = new long[shape.length + 1];
            batch[0] = 2;
            System.arraycopy(shape, 0, batch, 1, shape.length);
            Tensor x = torch.randn(batch);
            Denoiser.Output o = d.forward(x, Tensors.fromFloats(new float[]{0.5f, 1f}), Set.copyOf(d.taps()), true);
            assertArrayEquals(batch, Tensors.shape(o.denoised()));
            assertTrue(o.taps().keySet().containsAll(d.taps()));
        }
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
