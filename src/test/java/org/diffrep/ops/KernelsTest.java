package org.diffrep.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The native kernels against LibTorch on the same tensors, and the Java boundary's checks. */
class KernelsTest {

    private PointerScope scope;

    @BeforeEach
    void open() {
        scope = new PointerScope();
        torch.manual_seed(1234);
    }

    @AfterEach
    void close() {
        scope.close();
        Threads.set(0);
    }

    @Test
    void poolMatchesLibTorchMeanMaxAndActiveFraction() {
        for (long[] shape : new long[][]{{7, 13, 5, 5}, {3, 64, 8, 8}, {2, 5, 1, 1}, {4, 9, 17}}) {
            Tensor x = torch.randn(shape);
            Kernels.Pooled p = Kernels.pool(x, true, true, 0.25f);
            long[] spatialDims = shape.length == 4 ? new long[]{2, 3} : new long[]{2};
            Tensor mean = x.mean(spatialDims, false, null);
            Tensor max = x.amax(spatialDims, false);
            Tensor active = x.gt(new Scalar(0.25f)).to(ScalarType.Float).mean(spatialDims, false, null);
            assertClose(mean, p.mean(), 1e-5);
            assertTrue(max.equal(p.max()), "max must be exact");
            assertClose(active, p.active(), 1e-6);
        }
    }

    /** Each CPU path this machine runs gives the same bits as the portable one (DESIGN.md, one semantics). */
    @Test
    void everyCpuIsaGivesTheSameBits() {
        String atStart = Kernels.cpuIsa();
        assertTrue(Kernels.CPU_ISAS.contains(atStart), atStart);
        Tensor x = torch.randn(3, 5, 9, 7);
        Tensor ids = torch.arange(new Scalar(10), new Scalar(13)).to(ScalarType.Long);
        float[] sigmas = {0.1f, 1f, 3f};
        try {
            Kernels.setCpuIsa("portable");
            Tensor noise = Kernels.noiseInject(x, sigmas, null, ids, 42L, false);
            Tensor mean = Kernels.pool(x, true, true, 0f).mean();
            Tensor top = Kernels.poolTopk(x, 2, Kernels.Rank.MAGNITUDE, false).topk().indices();
            for (String isa : Kernels.CPU_ISAS) {
                try {
                    Kernels.setCpuIsa(isa);
                } catch (IllegalArgumentException e) {
                    continue;  // this CPU lacks it (the message says so)
                }
                assertEquals(isa, Kernels.cpuIsa());
                assertTrue(noise.equal(Kernels.noiseInject(x, sigmas, null, ids, 42L, false)), isa + " noise");
                assertTrue(mean.equal(Kernels.pool(x, true, true, 0f).mean()), isa + " pool");
                assertTrue(top.equal(Kernels.poolTopk(x, 2, Kernels.Rank.MAGNITUDE, false).topk().indices()), isa);
            }
        } finally {
            Kernels.setCpuIsa(atStart);
        }
        assertThrows(IllegalArgumentException.class, () -> Kernels.setCpuIsa("sse9"));
        assertThrows(IllegalArgumentException.class, () -> Kernels.setCpuIsa(null));
        assertTrue(Kernels.cpuIsaStatus().startsWith(atStart), Kernels.cpuIsaStatus());
    }

    @Test
    void poolSkipsOptionalOutputs() {
        Kernels.Pooled p = Kernels.pool(torch.randn(2, 3, 4, 4), false, false, 0f);
        assertNull(p.max());
        assertNull(p.active());
    }

    @Test
    void topkMatchesLibTorchTopk() {
        for (int[] nck : new int[][]{{9, 100, 1}, {9, 100, 7}, {5, 100, 100}, {3, 16384, 32}, {33, 512, 64}}) {
            Tensor x = torch.randn(nck[0], nck[1]);
            Kernels.TopK ours = Kernels.topk(x, nck[2], Kernels.Rank.VALUE);
            T_TensorTensor_T ref = x.topk(nck[2], 1, true, true);
            assertTrue(ref.get0().equal(ours.values()), "values for " + java.util.Arrays.toString(nck));
            assertTrue(ref.get1().equal(ours.indices()), "indices for " + java.util.Arrays.toString(nck));
        }
    }

    @Test
    void topkByMagnitudeReturnsSignedValuesOrderedByAbsoluteValue() {
        Tensor x = torch.randn(6, 300);
        Kernels.TopK ours = Kernels.topk(x, 20, Kernels.Rank.MAGNITUDE);
        T_TensorTensor_T ref = x.abs().topk(20, 1, true, true);
        assertTrue(ref.get1().equal(ours.indices()));
        assertTrue(x.gather(1, ref.get1()).equal(ours.values()), "signed values of the chosen entries");
    }

    @Test
    void topkTiesGoToTheLowerIndex() {
        Tensor x = Tensors.fromFloats(new float[]{1, 3, 3, 2, 3, 0}, 1, 6);
        Kernels.TopK t = Kernels.topk(x, 4, Kernels.Rank.VALUE);
        assertArrayEquals(new long[]{1, 2, 4, 3}, Tensors.toLongs(t.indices()));
        assertArrayEquals(new float[]{3, 3, 3, 2}, Tensors.toFloats(t.values()));
    }

    @Test
    void topkRanksNanFirstLikeLibTorch() {
        Tensor x = Tensors.fromFloats(new float[]{1, Float.NaN, 5, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}, 1, 5);
        Kernels.TopK t = Kernels.topk(x, 3, Kernels.Rank.VALUE);
        assertArrayEquals(new long[]{1, 4, 2}, Tensors.toLongs(t.indices()));
    }

    @Test
    void poolTopkEqualsMeanThenTopk() {
        Tensor x = torch.randn(11, 256, 4, 4);
        Kernels.PooledTopK ours = Kernels.poolTopk(x, 16, Kernels.Rank.VALUE, true);
        Kernels.Pooled pooled = Kernels.pool(x, false, false, 0f);
        assertTrue(pooled.mean().equal(ours.mean()), "fused mean equals the pooling kernel's");
        Kernels.TopK separate = Kernels.topk(pooled.mean(), 16, Kernels.Rank.VALUE);
        assertTrue(separate.indices().equal(ours.topk().indices()));
        T_TensorTensor_T ref = x.mean(new long[]{2, 3}, false, null).topk(16, 1, true, true);
        assertClose(ref.get0(), ours.topk().values(), 1e-5);
        Kernels.PooledTopK noMean = Kernels.poolTopk(x, 16, Kernels.Rank.VALUE, false);
        assertNull(noMean.mean());
        assertTrue(noMean.topk().indices().equal(ours.topk().indices()));
    }

    @Test
    void noiseHasStandardNormalStatistics() {
        int n = 512, d = 256;
        float[] sigmas = {1f, 1f};
        Tensor eps = Kernels.noiseInject(torch.zeros(n, d), sigmas, null, null, 42L, false);
        float[] e = Tensors.toFloats(eps);
        int count = n * d;
        double mean = 0, var = 0;
        for (float v : e) {
            mean += v;
        }
        mean /= e.length;
        for (float v : e) {
            var += (v - mean) * (v - mean);
        }
        var /= e.length;
        assertEquals(0.0, mean, 0.01, "mean");
        assertEquals(1.0, var, 0.01, "variance");
        // Neighbouring sample ids and the two sigma indices must be uncorrelated.
        double acrossIds = 0, acrossSigmas = 0;
        for (int i = 0; i + 1 < n; i++) {
            for (int k = 0; k < d; k++) {
                acrossIds += e[i * d + k] * e[(i + 1) * d + k];
            }
        }
        for (int t = 0; t < count; t++) {
            acrossSigmas += e[t] * e[count + t];
        }
        assertEquals(0.0, acrossIds / ((n - 1) * d), 0.015, "correlation across sample ids");
        assertEquals(0.0, acrossSigmas / count, 0.015, "correlation across sigma indices");
    }

    @Test
    void noiseFollowsTheFormulaWithScalesAndCleanMode() {
        Tensor x0 = torch.randn(4, 3, 2, 2);
        float[] sigmas = {0.5f, 2f};
        float[] scales = {1f, 0.25f};
        Tensor unit = Kernels.noiseInject(torch.zeros(4, 3, 2, 2), new float[]{1f, 1f}, null, null, 7L, false);
        Tensor out = Kernels.noiseInject(x0, sigmas, scales, null, 7L, false);
        assertArrayEquals(new long[]{2, 4, 3, 2, 2}, Tensors.shape(out));
        for (int j = 0; j < 2; j++) {
            Tensor expect = x0.add(unit.select(0, j).mul(new Scalar(sigmas[j]))).mul(new Scalar(scales[j]));
            assertClose(expect, out.select(0, j), 1e-6);
        }
        Tensor clean = Kernels.noiseInject(x0, sigmas, scales, null, 7L, true);
        assertTrue(clean.select(0, 0).equal(x0));
        assertClose(x0.mul(new Scalar(0.25f)), clean.select(0, 1), 0);
    }

    @Test
    void noiseIntoAReusedOutputGivesTheSameBits() {
        Tensor x0 = torch.randn(5, 3, 4, 4);
        float[] sigmas = {0.1f, 1f, 3f};
        Tensor ids = arange(10, 15);
        Tensor fresh = Kernels.noiseInject(x0, sigmas, null, ids, 3L, false);
        Tensor out = torch.full(new long[]{3, 5, 3, 4, 4}, new Scalar(Float.NaN));
        assertSame(out, Kernels.noiseInject(x0, sigmas, null, ids, 3L, false, out));
        assertTrue(out.equal(fresh));
        // reused for another seed: every element rewritten
        Kernels.noiseInject(x0, sigmas, null, ids, 4L, false, out);
        assertTrue(out.equal(Kernels.noiseInject(x0, sigmas, null, ids, 4L, false)));
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.noiseInject(x0, sigmas, null, ids, 3L, false, torch.empty(2, 5, 3, 4, 4)), "levels");
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.noiseInject(x0, sigmas, null, ids, 3L, false, torch.empty(3, 5, 48)), "flat shape");
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.noiseInject(x0, sigmas, null, ids, 3L, false, out.transpose(0, 1)), "non-contiguous");
        assertThrows(IllegalArgumentException.class, () -> Kernels.noiseInject(x0, sigmas, null, ids, 3L, false,
                torch.empty(new long[]{3, 5, 3, 4, 4}).to(ScalarType.Double)), "double");
    }

    @Test
    void aSampleGetsTheSameNoiseWhateverTheBatchOrThreads() {
        int n = 100, d = 50;
        float[] sigmas = {0.1f, 1f, 3f};
        Tensor x0 = torch.randn(n, d);
        Tensor whole = Kernels.noiseInject(x0, sigmas, null, arange(0, n), 9L, false);
        // Batches of 7 (last one short), ids carried along.
        for (int start = 0; start < n; start += 7) {
            int end = Math.min(n, start + 7);
            Tensor part = Kernels.noiseInject(x0.narrow(0, start, end - start).contiguous(), sigmas, null,
                    arange(start, end), 9L, false);
            assertTrue(part.equal(whole.narrow(1, start, end - start)), "batch starting at " + start);
        }
        // Reversed order: row i of the reversed batch is sample n-1-i.
        Tensor rev = torch.flip(x0, new long[]{0}).contiguous();
        Tensor revIds = torch.flip(arange(0, n), new long[]{0}).contiguous();
        Tensor revOut = Kernels.noiseInject(rev, sigmas, null, revIds, 9L, false);
        assertTrue(torch.flip(revOut, new long[]{1}).equal(whole));
        for (int threads : new int[]{1, 2, 3}) {
            Threads.set(threads);
            assertTrue(Kernels.noiseInject(x0, sigmas, null, arange(0, n), 9L, false).equal(whole),
                    "threads " + threads);
        }
        assertFalse(Kernels.noiseInject(x0, sigmas, null, arange(0, n), 10L, false).equal(whole),
                "another seed gives other noise");
    }

    @Test
    void badArgumentsAreRejectedInJava() {
        Tensor x = torch.randn(4, 8, 3, 3);
        assertThrows(IllegalArgumentException.class, () -> Kernels.pool(x.transpose(2, 3), false, false, 0f),
                "non-contiguous");
        assertThrows(IllegalArgumentException.class, () -> Kernels.pool(x.to(ScalarType.Double), false, false, 0f),
                "double");
        assertThrows(IllegalArgumentException.class, () -> Kernels.pool(torch.randn(4, 8), false, false, 0f),
                "no spatial dims");
        Tensor rows = torch.randn(4, 8);
        assertThrows(IllegalArgumentException.class, () -> Kernels.topk(rows, 0, Kernels.Rank.VALUE));
        assertThrows(IllegalArgumentException.class, () -> Kernels.topk(rows, 9, Kernels.Rank.VALUE));
        assertThrows(IllegalArgumentException.class, () -> Kernels.topk(x, 2, Kernels.Rank.VALUE), "4-d rows");
        assertThrows(IllegalArgumentException.class, () -> Kernels.poolTopk(x, 9, Kernels.Rank.VALUE, true));
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.noiseInject(rows, new float[]{1f}, null, arange(0, 3), 1L, false), "ids length");
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.noiseInject(rows, new float[]{1f}, null, torch.zeros(4), 1L, false), "float ids");
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.noiseInject(rows, new float[]{Float.NaN}, null, null, 1L, false), "NaN sigma");
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.noiseInject(rows, new float[]{1f, 2f}, new float[]{1f}, null, 1L, false), "scales");
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.noiseInject(rows, new float[0], null, null, 1L, false), "no sigmas");
        assertThrows(IllegalArgumentException.class, () -> Kernels.topk(new Tensor(), 1, Kernels.Rank.VALUE),
                "undefined tensor");
    }

    @Test
    void nativeLayerReportsErrorsWithoutCrashing() {
        // Straight to the binding with nonsense, as a careless caller might: an error code and a message.
        assertEquals(NativeOps.EINVAL, NativeOps.diffrep_topk(null, 1, 4, 2, 0, null, null, -1, null));
        assertTrue(NativeOps.diffrep_last_error().getString().contains("NULL"));
        assertEquals(NativeOps.EINVAL, NativeOps.diffrep_pool(null, 1, 1, 0, null, null, null, 0f, -1, null));
        assertEquals(NativeOps.EINVAL, NativeOps.diffrep_topk(null, 1, 4, 5, 0, null, null, -1, null));
        int rc = NativeOps.diffrep_pool(null, 1, 1, 1, null, null, null, 0f, 0, null);
        assertTrue(rc == NativeOps.EINVAL || rc == NativeOps.ENOCUDA, "CUDA device without CUDA: " + rc);
    }

    private static Tensor arange(long from, long to) {
        long[] ids = new long[(int) (to - from)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = from + i;
        }
        return Tensors.fromLongs(ids);
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol) {
        assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), "shape");
        double diff = expected.sub(actual).abs().max().item_double();
        assertTrue(diff <= tol, "max abs difference " + diff + " > " + tol);
    }
}
