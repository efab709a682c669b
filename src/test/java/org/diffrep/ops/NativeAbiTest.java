package org.diffrep.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeAbiTest {

    /** Java's expected ABI version is the header's: a change to diffrep_ops.h must change both. */
    @Test
    void expectedVersionIsTheHeaders() throws IOException {
        String header = Files.readString(Path.of("native/include/diffrep_ops.h"));
        Matcher m = Pattern.compile("(?m)^#define DIFFREP_ABI_VERSION (\\d+)\\s*$").matcher(header);
        assertTrue(m.find(), "native/include/diffrep_ops.h defines no DIFFREP_ABI_VERSION");
        assertEquals(Integer.parseInt(m.group(1)), NativeAbi.EXPECTED);
    }

    @Test
    void mismatchNamesTheLibraryBothVersionsAndTheFix() {
        assertNull(NativeAbi.mismatch(1, 1, "/x/libdiffrep_ops.so"));
        assertDoesNotThrow(() -> NativeAbi.check(3, 3, "/x/libdiffrep_ops.so"));
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeAbi.check(2, 1, "/old/build/libdiffrep_ops.so"));
        String m = e.getMessage();
        assertEquals(NativeAbi.mismatch(2, 1, "/old/build/libdiffrep_ops.so"), m);
        assertTrue(m.startsWith("native library /old/build/libdiffrep_ops.so has ABI version 2, but this diffrep "
                + "expects ABI version 1"), m);
        assertTrue(m.contains("mvn package") && m.contains("cppbuild.sh"), m);
    }

    /** The library this build loads passes the check, and its file is found by name. */
    @Test
    void loadedLibraryHasTheExpectedVersion() {
        assertEquals(NativeAbi.EXPECTED, NativeOps.diffrep_abi_version());
        String file = NativeAbi.libraryFile(null);
        assertTrue(file.contains("diffrep_ops"), file);
    }
}
