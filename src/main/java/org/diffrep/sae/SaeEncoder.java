package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.extract.StoreSettings;
import org.diffrep.io.Hashes;
import org.diffrep.model.Finite;
import org.diffrep.ops.MemoryBudget;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Encodes every row of a feature store's layer and sigma with an SAE and writes the codes as a new
 * feature store (see {@link CodeStoreWriter}): the same labels and split, the SAE file as its
 * "model", the layer under its own name and the one sigma at index 0, so probes and clustering
 * read SAE codes exactly as they read features.
 */
public final class SaeEncoder {

    private SaeEncoder() {
    }

    /** Writes the code store to {@code out} (new or empty directory) and returns it. */
    public static Path encode(TopKSae sae, Path saeFile, SaeFeatures in, Path out, int batch, PrintStream log)
            throws IOException {
        StoreSettings src = in.store().settings();
        long n = in.store().count();
        StoreSettings settings = new StoreSettings(saeFile.toString(), Hashes.sha256Id(saeFile), src.data(), n,
                List.of(in.layer()), List.of(in.sigma()), src.input(), src.noiseDraws(), src.pool(), sae.config().k(),
                batch, (int) Math.min(Integer.MAX_VALUE, n), batch, src.seed(), src.split(), src.trainFrac(), src.limit(), null,
                null, null);
        long[] ids = in.allIds();
        if (batch < 1) {
            throw InvalidInputException.field("batch", "must be >= 1, got " + batch);
        }
        double rows = Math.min(batch, Math.max(1, ids.length));
        String what = "{batch} " + batch;
        String why = "codes of " + (long) rows + " rows x " + sae.latents() + " latents at a time";
        MemoryBudget.requireArray(what, rows * sae.latents(), why, "batch");
        MemoryBudget.requireHeap(what, 3 * 4 * rows * sae.latents(), why, "batch");
        MemoryBudget.requireNative(what, 4 * 4 * rows * (sae.latents() + sae.config().inputDim()), why, "batch");
        long start = System.nanoTime();
        try (CodeStoreWriter w = CodeStoreWriter.create(out, settings, in.layer(), sae.latents(), sae.config().k(),
                in.store().labels(), in.store().trainMask(), in.datasetIndices());
             InferenceMode mode = new InferenceMode()) {
            for (int s = 0; s < ids.length; s += batch) {
                try (PointerScope scope = new PointerScope()) {
                    int m = Math.min(batch, ids.length - s);
                    Tensor x = RowBatches.rows(in.features(), ids, s, m);
                    TopKSae.Codes codes = sae.encode(x);
                    requireFinite(codes, saeFile.toString(), in, s, m, out);
                    w.append(codes);
                }
            }
            w.finish();
        }
        if (log != null) {
            double sec = (System.nanoTime() - start) / 1e9;
            log.printf("sae encode: %d rows -> %s (%d latents, k %d) in %.1f s, %.0f rows/s%n", n, out, sae.latents(),
                    sae.config().k(), sec, n / Math.max(sec, 1e-9));
        }
        return out;
    }

    /** The layers of a token SAE's code store: the codes' maximum and mean over an image's positions. */
    public static List<String> pooledLayers(String layer) {
        return List.of(layer + ".max", layer + ".mean");
    }

    /**
     * Encodes every token of every image and writes, per image, the codes pooled over its positions: their maximum
     * ({@code LAYER.max}) and mean ({@code LAYER.mean}), each [N, L], as a feature store with the images' labels,
     * split and dataset indices, so that {@code probe} and {@code cluster} read pooled codes as they read features.
     *
     * @param batch tokens per encoded batch (whole images: at least one image)
     */
    public static Path encodeTokens(TopKSae sae, Path saeFile, TokenImages in, Path out, int batch, PrintStream log)
            throws IOException {
        if (batch < 1) {
            throw InvalidInputException.field("batch", "must be >= 1, got " + batch);
        }
        TokenRows rows = in.rows();
        int hw = rows.positions(), l = sae.latents();
        int images = Math.max(1, batch / hw);
        String what = "{batch} " + batch;
        String why = "codes of " + images + " images x " + hw + " positions x " + l + " latents at a time";
        MemoryBudget.requireNative(what, 4.0 * 4 * images * hw * ((double) l + sae.config().inputDim()), why, "batch");
        MemoryBudget.requireHeap(what, 3.0 * 4 * images * l, why, "batch");
        StoreSettings src = in.source();
        long n = in.labels().length;
        List<String> layers = pooledLayers(in.layer());
        StoreSettings settings = new StoreSettings(saeFile.toString(), Hashes.sha256Id(saeFile), src.data(), n, layers,
                List.of(in.sigma()), src.input(), src.noiseDraws(), src.pool(), 0, batch,
                (int) Math.min(Integer.MAX_VALUE, n), batch, src.seed(), src.split(), src.trainFrac(), src.limit(), null,
                null, null);
        java.util.Map<String, Integer> widths = new java.util.LinkedHashMap<>();
        for (String name : layers) {
            widths.put(name, l);
        }
        long start = System.nanoTime();
        try (CodeStoreWriter w = CodeStoreWriter.create(out, settings, widths, null, 0, in.labels(), in.train(),
                in.datasetIndices()); InferenceMode mode = new InferenceMode()) {
            IOException[] failed = new IOException[1];
            rows.scanImages(images, (first, tokens) -> {
                if (failed[0] != null) {
                    return;
                }
                int b = (int) tokens.size(0);
                TopKSae.Codes codes = sae.encode(tokens.reshape(-1, rows.width()));
                requireFinite(codes, saeFile.toString(), rows.source(), (long) first * hw, b * hw, out);
                Tensor dense = codes.dense().reshape(b, hw, l);
                try {
                    w.append(java.util.Map.of(layers.get(0), dense.amax(new long[]{1}, false),
                            layers.get(1), dense.mean(new long[]{1}, false, null)));
                } catch (IOException e) {
                    failed[0] = e;
                }
            });
            if (failed[0] != null) {
                throw failed[0];
            }
            w.finish();
        }
        if (log != null) {
            double sec = (System.nanoTime() - start) / 1e9;
            log.printf("sae encode: %d images x %d tokens -> %s (%s, %d latents, k %d) in %.1f s, %.0f tokens/s%n", n, hw,
                    out, layers, l, sae.config().k(), sec, n * hw / Math.max(sec, 1e-9));
        }
        return out;
    }

    /** Refuses codes with NaN or infinite values: they would be written as a complete store. */
    static void requireFinite(TopKSae.Codes codes, String saeFile, SaeFeatures in, long first, int n, Path out) {
        requireFinite(codes, saeFile, in.source(), first, n, out);
    }

    static void requireFinite(TopKSae.Codes codes, String saeFile, String source, long first, int n, Path out) {
        if (!Finite.all(codes.values())) {
            throw new InvalidInputException(saeFile + ": the codes of rows " + first + " to " + (first + n - 1) + " of "
                    + source + " are NaN or infinite (NaN in the SAE's weights or in those feature rows)"
                    + (out == null ? "" : "; " + out + " was left incomplete"));
        }
    }
}
