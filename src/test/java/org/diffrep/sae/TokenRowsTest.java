package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.Pooling;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.UNet;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token rows of a seeded small UNet on real MNIST digits: from a --pool none store and streamed from the model. */
class TokenRowsTest {

    private static final String MNIST = "builtin:mnist";
    private static final int IMAGES = 40;

    private static NetworkDenoiser unet() {
        return ModelFiles.build(new UNet.Config(new long[]{1, 28, 28}, new int[]{8, 16}, 1, new int[0],
                NoiseEmbedding.SINUSOIDAL, Parametrisation.EDM), 11);
    }

    private static SaeFeatures store(NetworkDenoiser m, Path dir) {
        ExtractConfig cfg = ExtractConfig.builder().data(MNIST).out(dir).layers(List.of("mid")).sigmas(1.0f)
                .pool(Pooling.NONE).limit(IMAGES).batch(16).seed(3).build();
        new Extractor(cfg).log(null).run(m, "unet-seed-11", DataSpec.open(MNIST));
        return SaeFeatures.open(dir, "mid", 1.0f, null);
    }

    /** Token (image, position) of the store as floats, read from the mapped [N, C*H*W] row. */
    private static float[] token(float[][] rows, int image, int p, int c, int hw) {
        float[] t = new float[c];
        for (int ch = 0; ch < c; ch++) {
            t[ch] = rows[image][ch * hw + p];
        }
        return t;
    }

    @Test
    void storeTokensAreMapPositionsShuffledAcrossImagesAndStreamedTokensMatch(@TempDir Path tmp) {
        try (PointerScope scope = new PointerScope()) {
            NetworkDenoiser m = unet();
            SaeFeatures in = store(m, tmp.resolve("store"));
            int[] shape = SaeInput.tokenShape(in);
            int c = shape[0], hw = shape[1] * shape[2];
            float[][] rows = in.store().features("mid", 0);
            long[] all = LongStream.range(0, IMAGES).toArray();
            StoreTokens tokens = new StoreTokens(in.features(), all, shape, "store");
            assertEquals((long) IMAGES * hw, tokens.count());
            assertEquals(c, tokens.width());

            // every token of every image, once, in (image, position) order
            List<float[]> byId = new java.util.ArrayList<>();
            for (int i = 0; i < IMAGES; i++) {
                for (int p = 0; p < hw; p++) {
                    byId.add(token(rows, i, p, c, hw));
                }
            }
            float[] scanned = Tensors.toFloats(torch.cat(collect(tokens), 0));
            for (int t = 0; t < byId.size(); t += 97) {
                assertArrayEquals(byId.get(t), java.util.Arrays.copyOfRange(scanned, t * c, (t + 1) * c), 0f);
            }

            // a training batch: tokens of many images, the same batches for the same seed
            Tensor b1 = tokens.cursor().next(64, new Random(5));
            Tensor b2 = tokens.cursor().next(64, new Random(5));
            assertTrue(torch.equal(b1, b2));
            assertTrue(imagesOf(b1, byId, hw, c).size() >= 8);
            // exactly which: on rows that spell (image, position) in every channel, a batch of 64 of the 40 x hw
            // tokens has about 32 distinct images, and the next pass is another order
            float[] code = new float[IMAGES * c * hw];
            for (int i = 0; i < IMAGES; i++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int p = 0; p < hw; p++) {
                        code[(i * c + ch) * hw + p] = i * 1000 + p;
                    }
                }
            }
            StoreTokens coded = new StoreTokens(Tensors.fromFloats(code, IMAGES, (long) c * hw), all, shape, "coded");
            SaeRows.Cursor cur = coded.cursor();
            Random rng = new Random(5);
            Set<Integer> distinct = new HashSet<>();
            Set<Long> seen = new HashSet<>();
            for (int step = 0; step < IMAGES * hw / 64; step++) {
                float[] b = Tensors.toFloats(cur.next(64, rng));
                for (int r = 0; r < 64; r++) {
                    for (int ch = 1; ch < c; ch++) {
                        assertEquals(b[r * c], b[r * c + ch], 0f, "a token's channels are one position of one image");
                    }
                    assertTrue(seen.add((long) b[r * c]), "a token served twice in one pass");
                    if (step == 0) {
                        distinct.add((int) b[r * c] / 1000);
                    }
                }
            }
            assertTrue(distinct.size() >= 24, "64 tokens of one batch come from " + distinct.size() + " images");

            // streamed from the model: the same tokens (same engine), batches mixing images through the buffer
            ModelTokens streamed = ModelTokens.open(m, DataSpec.open(MNIST), "mid", 1.0f, all, 16, 20, "model");
            assertArrayEquals(shape, streamed.mapShape());
            float[] fromModel = Tensors.toFloats(torch.cat(collect(streamed), 0));
            float err = 0;
            for (int i = 0; i < scanned.length; i++) {
                err = Math.max(err, Math.abs(fromModel[i] - scanned[i]));
            }
            assertTrue(err < 1e-4f, "streamed tokens differ from the store's by " + err);
            Tensor s1 = streamed.cursor().next(64, new Random(5));
            assertTrue(torch.equal(s1, streamed.cursor().next(64, new Random(5))));
            Set<Integer> streamedImages = imagesOf(s1, byId, hw, c);
            assertTrue(streamedImages.size() >= 8, "64 streamed tokens come from " + streamedImages.size() + " images");
        }
    }

    private static org.bytedeco.pytorch.TensorVector collect(TokenRows rows) {
        org.bytedeco.pytorch.TensorVector out = new org.bytedeco.pytorch.TensorVector();
        rows.scan(500, t -> out.push_back(t.clone()));
        return out;
    }

    /**
     * Every batch row must be a token of the set; returns the images of the rows that match tokens of one image only
     * (the background of an untrained network gives equal tokens in many images).
     */
    private static Set<Integer> imagesOf(Tensor batch, List<float[]> byId, int hw, int c) {
        float[] b = Tensors.toFloats(batch);
        Set<Integer> images = new HashSet<>();
        for (int r = 0; r < b.length / c; r++) {
            Set<Integer> matches = new HashSet<>();
            for (int t = 0; t < byId.size(); t++) {
                double d = 0;
                for (int ch = 0; ch < c; ch++) {
                    double e = byId.get(t)[ch] - b[r * c + ch];
                    d += e * e;
                }
                if (d < 1e-8) {
                    matches.add(t / hw);
                }
            }
            assertTrue(!matches.isEmpty(), "batch row " + r + " is no token of the set");
            if (matches.size() == 1) {
                images.addAll(matches);
            }
        }
        return images;
    }

    @Test
    void pcaBaselineFvuFallsWithComponentsAndVanishesAtFullRank() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(2);
            Tensor x = torch.randn(400, 6).matmul(torch.randn(6, 6));
            PcaBaseline pca = PcaBaseline.fit(x.narrow(0, 0, 300));
            double[] f = pca.fvu(StoreRows.all(x.narrow(0, 300, 100).contiguous(), "test"), new int[]{0, 1, 3, 6}, 32);
            assertTrue(f[0] >= 1.0 - 1e-9, "0 components explain nothing (mean shift only adds): " + f[0]);
            assertTrue(f[1] < f[0] && f[2] < f[1] && f[3] < f[2], java.util.Arrays.toString(f));
            assertEquals(0.0, f[3], 1e-6);
            assertEquals(1.0, pca.explained(6), 1e-9);
        }
    }

    @Test
    void kAuxDefaultsToHalfTheWidthCappedByTheLatents() {
        assertEquals(64, SaeConfig.builder().inputDim(128).latents(4096).build().kAux());
        assertEquals(32, SaeConfig.builder().inputDim(128).latents(32).k(8).build().kAux());
        assertEquals(1, SaeConfig.builder().inputDim(1).latents(8).k(1).build().kAux());
        assertEquals(200, SaeConfig.builder().inputDim(128).latents(4096).kAux(200).build().kAux());
        SaeConfig c = SaeConfig.builder().inputDim(1).latents(4096).build();
        assertEquals(64, c.toBuilder().inputDim(128).kAuxDefault().build().kAux());
    }
}
