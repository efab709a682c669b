package org.diffrep.ops;

import java.util.Map;

/**
 * The ABI check between this Java code and the native library it loads. {@code NativeOps} is compiled against
 * {@code native/include/diffrep_ops.h}; a {@code libdiffrep_ops.so} from another build (an old {@code target/},
 * a stale copy in JavaCPP's cache, a library built by hand from other sources) may take other arguments and would
 * crash or compute garbage instead of failing. So when the library loads, the version it reports
 * ({@code diffrep_abi_version()}) must equal {@link #EXPECTED}, or loading stops with a message that names the
 * file and says how to fix it. A test keeps {@link #EXPECTED} equal to the header's {@code DIFFREP_ABI_VERSION}.
 */
public final class NativeAbi {

    /** The ABI version this Java code is written for: {@code DIFFREP_ABI_VERSION} in diffrep_ops.h. */
    public static final int EXPECTED = 3;

    private NativeAbi() {
    }

    /**
     * Checks the version a loaded library reports.
     *
     * @param found   what {@code diffrep_abi_version()} returned
     * @param library the library file, for the message
     * @throws UnsatisfiedLinkError when {@code found != expected}, with {@link #mismatch}'s message
     */
    static void check(int found, int expected, String library) {
        String message = mismatch(found, expected, library);
        if (message != null) {
            throw new UnsatisfiedLinkError(message);
        }
    }

    /** The error message for a library of ABI {@code found} where {@code expected} is needed; null when they agree. */
    static String mismatch(int found, int expected, String library) {
        if (found == expected) {
            return null;
        }
        return "native library " + library + " has ABI version " + found + ", but this diffrep expects ABI version "
                + expected + " (DIFFREP_ABI_VERSION in native/include/diffrep_ops.h): the library comes from another "
                + "build. Rebuild the Java classes and the native library together with 'mvn package' (or "
                + "'./cppbuild.sh --clean' then 'mvn package'); if the file is in JavaCPP's cache (~/.javacpp/cache), "
                + "delete that copy so the new one is unpacked.";
    }

    /** The file of the loaded {@code diffrep_ops} library, else {@code jniLibrary} (the JNI glue that links it). */
    static String libraryFile(String jniLibrary) {
        for (Map.Entry<String, String> e : org.bytedeco.javacpp.Loader.getLoadedLibraries().entrySet()) {
            String path = e.getValue();
            if (path != null && path.contains("diffrep_ops")) {
                return path;
            }
        }
        return jniLibrary != null ? jniLibrary : "libdiffrep_ops.so (statically linked)";
    }
}
