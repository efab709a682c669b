package org.diffrep.sae;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.extract.StoreSettings;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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
        StoreSettings settings = new StoreSettings(saeFile.toString(), sha256(saeFile), src.data(), n,
                List.of(in.layer()), List.of(in.sigma()), src.input(), src.noiseDraws(), src.pool(), sae.config().k(),
                batch, (int) Math.min(Integer.MAX_VALUE, n), batch, src.seed(), src.split(), src.trainFrac(), src.limit());
        long[] ids = in.allIds();
        long start = System.nanoTime();
        try (CodeStoreWriter w = CodeStoreWriter.create(out, settings, in.layer(), sae.latents(), sae.config().k(),
                in.store().labels(), in.store().trainMask(), in.datasetIndices());
             InferenceMode mode = new InferenceMode()) {
            for (int s = 0; s < ids.length; s += batch) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor x = RowBatches.rows(in.features(), ids, s, Math.min(batch, ids.length - s));
                    w.append(sae.encode(x));
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

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int r; (r = in.read(buf)) > 0; ) {
                    md.update(buf, 0, r);
                }
            }
            return "sha256:" + HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
