package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-batch tensor sizes are checked before any work or file (issue 13: absurd sizes reached LibTorch). */
class ExtractLimitsTest {

    @TempDir
    Path tmp;

    @Test
    void absurdForwardRowsAreRefusedBeforeTheStoreIsCreated() {
        MlpDenoiser.Config c = new MlpDenoiser.Config(new long[]{1, 1, 50}, 1, 16, "silu", "sinusoidal", 8,
                org.diffrep.model.Parametrisation.EDM);
        NetworkDenoiser m = ModelFiles.build("mlp", ModelFiles.configJson(new MlpDenoiser(c)), 1);
        Path out = tmp.resolve("store");
        ExtractConfig cfg = ExtractConfig.builder().data("molrg:samples=30").out(out).layers(List.of("out"))
                .sigmas(0.1f, 1f).batch(8).forwardRows(Integer.MAX_VALUE).shardSize(16).build();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new Extractor(cfg).log(null).run(m, "mlp", DataSpec.open("molrg:samples=30")));
        assertTrue(e.getMessage().startsWith("forwardRows 2147483647: ") && e.getMessage().contains("at most 4294967296"),
                e.getMessage());
        assertFalse(Files.exists(out.resolve(StoreLayout.MANIFEST)));
    }
}
