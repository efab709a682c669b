package org.diffrep.extract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tensor over a memory-mapped feature file outlives the FeatureStore that made it. */
class FeatureStoreMappingTest {

    @Test
    void aFeatureTensorKeepsItsMappingAfterTheStoreIsGone(@TempDir Path tmp) throws Exception {
        org.diffrep.ops.Threads.set(2);
        NetworkDenoiser model = ExtractFixture.mlp();
        Path out = tmp.resolve("store");
        ExtractFixture.run(ExtractFixture.config(out).build(), model);
        float[] expected = FeatureStore.open(out).features("enc.0", 1)[7].clone();

        try (PointerScope scope = new PointerScope()) {
            Tensor t = tensorOfAStoreNobodyKeeps(out);
            long address = t.data_ptr().address();
            assertTrue(MappingPins.isPinned(address));
            for (int i = 0; i < 5; i++) {
                System.gc(); // before the pin, this unmapped the file under the tensor (SIGSEGV on the read)
                Thread.sleep(20);
            }
            assertArrayEquals(expected, Tensors.toFloats(t.select(0, 7)));
        }
        // Unpinning (LibTorch's deleter, once the storage is freed) is not asserted here: run alone,
        // the pin is gone when the scope closes; after the other suites the storage outlives the scope
        // (something still holds it; not yet found), which leaks address space, never a crash.
    }

    private static Tensor tensorOfAStoreNobodyKeeps(Path dir) {
        return FeatureStore.open(dir).featuresTensor("enc.0", 1);
    }
}
