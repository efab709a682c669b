package org.diffrep.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java boundary of shared-library kernels: bad tensors never reach native code, a missing library or symbol is
 * a {@link UserKernelException} naming it; strided maps are honoured. Uses the example library that cppbuild.sh
 * builds beside the native tests (target/native/linux-x86_64/bin/libchannel_rms.so).
 */
class SharedLibraryKernelTest {

    static final Path LIB = Path.of("target/native/linux-x86_64/bin/libchannel_rms.so");

    @Test
    void checksArgumentsAndNamesWhatIsMissing() {
        try (PointerScope scope = new PointerScope()) {
            SharedLibraryKernel k = new SharedLibraryKernel(LIB, "diffrep_reduction");
            assertEquals(5, k.rows(new long[]{5, 3, 3}));
            Tensor x = torch.randn(2, 5, 3, 3);
            assertThrows(IllegalArgumentException.class, () -> k.reduce(x.to(torch.ScalarType.Double), 5));
            assertThrows(IllegalArgumentException.class, () -> k.reduce(x.reshape(2, 5, 9), 5));
            assertThrows(IllegalArgumentException.class, () -> k.reduce(x.transpose(2, 3), 5), "non-contiguous");
            assertThrows(IllegalArgumentException.class, () -> k.reduce(x, 0));
            assertThrows(IllegalArgumentException.class, () -> k.rows(new long[]{5, 0, 3}));
            UserKernelException user = assertThrows(UserKernelException.class, () -> k.reduce(x, 6));
            assertEquals(UserKernelException.Kind.FAILED, user.kind());
            assertTrue(user.getMessage().contains("channels"), user.getMessage());

            UserKernelException sym = assertThrows(UserKernelException.class,
                    () -> new SharedLibraryKernel(LIB, "absent").rows(new long[]{5}));
            assertEquals(UserKernelException.Kind.MISSING, sym.kind());
            assertTrue(sym.getMessage().contains("absent_rows"), sym.getMessage());
            UserKernelException lib = assertThrows(UserKernelException.class,
                    () -> new SharedLibraryKernel(Path.of("/nonexistent/lib.so"), "f"));
            assertTrue(lib.getMessage().contains("/nonexistent/lib.so"), lib.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new SharedLibraryKernel(LIB, "not a symbol"));

            Tensor rows = k.reduce(x, 5);
            Tensor expected = x.mul(x).reshape(2, 5, 9).mean(new long[]{2}, false, null).sqrt();
            float[] a = Tensors.toFloats(expected), b = Tensors.toFloats(rows);
            assertEquals(a.length, b.length);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-5f * Math.max(1f, Math.abs(a[i])));
            }
            assertArrayEquals(new long[]{2, 5}, Tensors.shape(rows));
        }
    }
}
