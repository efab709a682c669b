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

    /** Refuses codes with NaN or infinite values: they would be written as a complete store. */
    static void requireFinite(TopKSae.Codes codes, String saeFile, SaeFeatures in, long first, int n, Path out) {
        if (!Finite.all(codes.values())) {
            throw new InvalidInputException(saeFile + ": the codes of rows " + first + " to " + (first + n - 1) + " of "
                    + in.source() + " are NaN or infinite (NaN in the SAE's weights or in those feature rows)"
                    + (out == null ? "" : "; " + out + " was left incomplete"));
        }
    }
}
