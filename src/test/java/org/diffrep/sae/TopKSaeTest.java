package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import org.diffrep.probe.LogisticProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TopK autoencoder's invariants, its training on real MNIST pixels, and its file format. */
class TopKSaeTest {

    private PointerScope scope;

    @BeforeEach
    void open() {
        scope = new PointerScope();
        torch.manual_seed(7);
        Threads.set(1); // small matrices: one thread is fastest and immune to other processes' load
    }

    @AfterEach
    void close() {
        scope.close();
        Threads.set(0);
    }

    /** The first n MNIST test digits as rows [n, 784] (pixels in [-1, 1]): real data. */
    static Tensor mnistRows(int n) {
        Dataset d = DataSpec.open("builtin:mnist");
        Tensor images = d.batch(LongStream.range(0, n).toArray()).images();
        return images.reshape(n, -1).contiguous();
    }

    private static SaeConfig small(int dim) {
        return SaeConfig.builder().inputDim(dim).latents(64).k(8).batch(32).steps(20).seed(3).build();
    }

    private static long[] range(long n) {
        return LongStream.range(0, n).toArray();
    }

    @Test
    void decoderColumnsStayUnitNormDuringTraining() {
        Tensor x = torch.randn(200, 24);
        TopKSae sae = new SaeTrainer(small(24), null, 5).train(x, range(200), "test").sae();
        float[] norms = Tensors.toFloats(sae.decoder().square().sum(new long[]{0}, false, null).sqrt());
        assertEquals(64, norms.length);
        for (float n : norms) {
            assertEquals(1f, n, 1e-5f);
        }
    }

    @Test
    void parallelGradientComponentIsRemoved() {
        SaeConfig c = small(16);
        TopKSae sae = TopKSae.init(c, 1f, torch.zeros(16));
        Tensor loss = sae.decRows.mul(torch.randn(64, 16)).sum().add(sae.decRows.square().sum());
        loss.backward();
        Tensor before = sae.decRows.grad().mul(sae.decRows.detach()).sum(1);
        assertTrue(before.abs().max().item_float() > 0.1f, "the test gradient must have a parallel part");
        sae.removeParallelGradient();
        float[] dots = Tensors.toFloats(sae.decRows.grad().mul(sae.decRows.detach()).sum(1));
        for (float d : dots) {
            assertEquals(0f, d, 1e-5f);
        }
    }

    @Test
    void topkForwardEqualsLibTorchTopk() {
        for (boolean relu : new boolean[]{true, false}) {
            SaeConfig c = SaeConfig.builder().inputDim(20).latents(50).k(7).kAux(16).deadAfter(100).warmup(0).batch(8)
                    .steps(0).seed(1).relu(relu).medianInit(false).build();
            TopKSae sae = TopKSae.init(c, 1f, torch.randn(20));
            Tensor x = torch.randn(33, 20);
            TopKSae.Codes codes = sae.encode(x);
            Tensor pre = sae.preActivations(x).detach();
            T_TensorTensor_T ref = pre.topk(7, 1, true, true);
            Tensor dense = torch.zeros_like(pre).scatter(1, ref.get1(), ref.get0());
            assertArrayEquals(Tensors.toFloats(ref.get0()), Tensors.toFloats(codes.values()), 0f);
            assertArrayEquals(Tensors.toFloats(dense), Tensors.toFloats(codes.dense()), 0f);
        }
    }

    @Test
    void gradientFlowsOnlyThroughTheSelectedLatents() {
        SaeConfig c = SaeConfig.builder().inputDim(10).latents(40).k(3).kAux(16).deadAfter(100).warmup(0).batch(8)
                .steps(0).seed(1).relu(false).medianInit(false).build();
        TopKSae sae = TopKSae.init(c, 1f, torch.zeros(10));
        Tensor x = torch.randn(1, 10);
        TopKSae.Codes codes = sae.encode(x);
        sae.decode(codes.dense()).square().sum().backward();
        long[] selected = Tensors.toLongs(codes.indices());
        float[] rowGrad = Tensors.toFloats(sae.wEnc.grad().abs().sum(new long[]{1}, false, null));
        for (int j = 0; j < 40; j++) {
            final int jj = j;
            boolean sel = LongStream.of(selected).anyMatch(s -> s == jj);
            assertEquals(sel, rowGrad[j] > 0, "latent " + j);
        }
    }

    /** The sparse decode (embedding_bag over decoder rows) equals the dense product, values and gradients. */
    @Test
    void sparseDecodeEqualsDenseDecode() {
        SaeConfig c = SaeConfig.builder().inputDim(24).latents(96).k(5).kAux(16).deadAfter(100).warmup(0).batch(8)
                .steps(0).seed(1).medianInit(false).build();
        TopKSae sae = TopKSae.init(c, 1f, torch.randn(24));
        Tensor x = torch.randn(37, 24);
        Tensor target = torch.randn(37, 24);
        Tensor[] grads = new Tensor[2];
        Tensor[] outs = new Tensor[2];
        for (int pass = 0; pass < 2; pass++) {
            TopKSae.Codes codes = sae.topk(sae.preActivations(x), 5);
            Tensor out = pass == 0 ? sae.decodeStandardised(codes.dense())
                    : sae.decodeSparseStandardised(codes.values(), codes.indices());
            out.sub(target).square().sum().backward();
            outs[pass] = out.detach();
            grads[pass] = sae.decRows.grad().clone();
            sae.decRows.grad().zero_();
        }
        assertArrayEquals(Tensors.toFloats(outs[0]), Tensors.toFloats(outs[1]), 1e-4f);
        assertArrayEquals(Tensors.toFloats(grads[0]), Tensors.toFloats(grads[1]), 1e-4f);
        assertTrue(grads[1].abs().sum().item_float() > 0);
    }

    @Test
    void auxkUsesOnlyDeadLatents() {
        SaeConfig c = SaeConfig.builder().inputDim(12).latents(30).k(4).kAux(8).deadAfter(100).warmup(0).batch(8)
                .steps(0).seed(1).medianInit(false).build();
        TopKSae sae = TopKSae.init(c, 1f, torch.zeros(12));
        SaeTrainer trainer = new SaeTrainer(c, null, 1);
        long[] sinceFired = new long[30];
        int[] dead = {2, 5, 11, 17, 23, 29};
        for (int j : dead) {
            sinceFired[j] = 500;
        }
        float[] penalty = trainer.deadPenalty(sinceFired);
        Tensor x = torch.randn(16, 12);
        Tensor pre = sae.preActivations(x);
        Tensor residual = torch.randn(16, 12);
        trainer.auxLoss(sae, pre, residual, penalty).backward();
        float[] encGrad = Tensors.toFloats(sae.wEnc.grad().abs().sum(new long[]{1}, false, null));
        float[] decGrad = Tensors.toFloats(sae.decRows.grad().abs().sum(new long[]{1}, false, null));
        int touched = 0;
        for (int j = 0; j < 30; j++) {
            final int jj = j;
            boolean isDead = java.util.stream.IntStream.of(dead).anyMatch(d -> d == jj);
            if (!isDead) {
                assertEquals(0f, encGrad[j], "live latent " + j + " got encoder gradient from AuxK");
                assertEquals(0f, decGrad[j], "live latent " + j + " got decoder gradient from AuxK");
            } else if (decGrad[j] > 0) {
                touched++;
            }
        }
        assertTrue(touched > 0, "AuxK must train some dead latent");
        assertEquals(null, trainer.deadPenalty(new long[30]), "no dead latents, no AuxK");
    }

    @Test
    void fvuDecreasesOnRealMnist() {
        Tensor x = mnistRows(2000);
        long[] train = range(1500), test = LongStream.range(1500, 2000).toArray();
        SaeConfig c = SaeConfig.builder().inputDim(784).latents(128).k(16).kAux(64).lr(3e-3).warmup(10).batch(64)
                .steps(120).seed(1).build();
        TopKSae untrained = new SaeTrainer(c.toBuilder().steps(0).build(), null, 10).train(x, train, "mnist").sae();
        SaeTrainer.Result r = new SaeTrainer(c, null, 10).train(x, train, "mnist");
        double before = SaeEvaluation.of(untrained, x, test, 256).fvu();
        SaeEvaluation after = SaeEvaluation.of(r.sae(), x, test, 256);
        assertTrue(after.fvu() < 0.6 * before, "held-out FVU " + before + " -> " + after.fvu());
        assertTrue(after.fvu() < 0.4, "held-out FVU after 120 steps: " + after.fvu());
        assertTrue(after.l0() <= 16 + 1e-9, "L0 " + after.l0());
        assertTrue(r.history().get(r.history().size() - 1).fvu() < r.history().get(0).fvu());
    }

    @Test
    void aProbeOnSparseCodesScalesThemTogether() {
        // real MNIST pixels -> a briefly trained SAE -> codes; the probe's AUTO scaling must see that
        // the codes are sparse (one common scale) and the dense pixels are not (per-column scaling)
        Tensor x = mnistRows(2000);
        long[] train = range(1500), test = LongStream.range(1500, 2000).toArray();
        SaeConfig c = SaeConfig.builder().inputDim(784).latents(128).k(16).kAux(64).lr(3e-3).warmup(10).batch(64)
                .steps(120).seed(1).build();
        TopKSae sae = new SaeTrainer(c, null, 10).train(x, train, "mnist").sae();
        Tensor z;
        try (InferenceMode mode = new InferenceMode()) {
            z = sae.encode(x).dense().clone();
        }
        int[] all = DataSpec.open("builtin:mnist").labels();
        long[] ytr = new long[1500], yte = new long[500];
        for (int i = 0; i < 2000; i++) {
            if (i < 1500) {
                ytr[i] = all[i];
            } else {
                yte[i - 1500] = all[i];
            }
        }
        Tensor trIdx = Tensors.fromLongs(train, train.length), teIdx = Tensors.fromLongs(test, test.length);
        LogisticProbe.Settings s = LogisticProbe.Settings.builder().l2(1e-3).build();
        LogisticProbe onCodes = LogisticProbe.fit(z.index_select(0, trIdx), ytr, 10, s);
        LogisticProbe onPixels = LogisticProbe.fit(x.index_select(0, trIdx), ytr, 10, s);
        assertEquals(LogisticProbe.Scaling.GLOBAL, onCodes.scaling());
        assertEquals(LogisticProbe.Scaling.COLUMNS, onPixels.scaling());
        double acc = onCodes.evaluate(z.index_select(0, teIdx), yte).accuracy();
        assertTrue(acc > 0.75, "probe on 16-of-128 codes of MNIST digits: held-out accuracy " + acc);
    }

    @Test
    void safetensorsRoundTrip(@TempDir Path dir) throws Exception {
        Tensor x = torch.randn(100, 16).mul(new Scalar(3)).add(new Scalar(1));
        TopKSae sae = new SaeTrainer(small(16), null, 5).train(x, range(100), "test").sae();
        Path file = dir.resolve("sae.safetensors");
        sae.save(file, Map.of("layer", "mid"));
        TopKSae.Loaded loaded = TopKSae.load(file);
        assertEquals(sae.config(), loaded.sae().config());
        assertEquals(sae.inputScale(), loaded.sae().inputScale());
        assertEquals("mid", loaded.metadata().get("layer"));
        assertArrayEquals(Tensors.toFloats(sae.encode(x).dense()), Tensors.toFloats(loaded.sae().encode(x).dense()), 0f);
    }

    @Test
    void badInputGivesClearMessages(@TempDir Path dir) {
        Tensor x = torch.randn(50, 8);
        x.data_ptr_float().put(3 * 8 + 5, Float.NaN);
        InvalidInputException nan = assertThrows(InvalidInputException.class,
                () -> new SaeTrainer(small(8), null, 5).train(x, range(50), "feats.npy"));
        assertTrue(nan.getMessage().contains("feats.npy") && nan.getMessage().contains("row 3"), nan.getMessage());

        InvalidInputException width = assertThrows(InvalidInputException.class,
                () -> new SaeTrainer(small(9), null, 5).train(torch.randn(50, 8), range(50), "feats.npy"));
        assertTrue(width.getMessage().contains("8 values") && width.getMessage().contains("expects 9"), width.getMessage());

        TopKSae sae = TopKSae.init(small(8), 1f, torch.zeros(8));
        InvalidInputException enc = assertThrows(InvalidInputException.class, () -> sae.encode(torch.randn(4, 7)));
        assertTrue(enc.getMessage().contains("[N, 8]"), enc.getMessage());

        InvalidInputException k = assertThrows(InvalidInputException.class, () -> SaeConfig.builder().inputDim(8)
                .k(5000).build());
        assertEquals("k must be in [1, latents=4096], got 5000", k.getMessage());

        InvalidInputException missing = assertThrows(InvalidInputException.class,
                () -> TopKSae.load(dir.resolve("none.safetensors")));
        assertTrue(missing.getMessage().contains("none.safetensors"), missing.getMessage());
    }
}
