package org.diffrep;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The versions this build was made from, read from {@code org/diffrep/build.properties}, which Maven fills in from
 * pom.xml when it copies the resources. One source, so {@code diffrep --version}, {@code diffrep info}, the feature
 * store and SAE code store manifests and the model files all record the same numbers and none goes stale when the pom
 * changes. Loads no native code.
 */
public final class BuildInfo {

    /** The classpath resource holding the versions. */
    public static final String RESOURCE = "/org/diffrep/build.properties";

    private static final Properties PROPS = load();

    private BuildInfo() {
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("classpath resource " + RESOURCE + " is missing: this build of diffrep "
                        + "is incomplete (rebuild it with mvn package)");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return p;
    }

    private static String get(String key) {
        String v = PROPS.getProperty(key);
        if (v == null || v.contains("${")) {
            throw new IllegalStateException(RESOURCE + ": " + key + " is " + (v == null ? "missing" : "unfiltered ('" + v
                    + "')") + "; expected the value from pom.xml (build with Maven, which filters this file)");
        }
        return v;
    }

    /** diffrep's version, the pom's {@code project.version}, e.g. {@code 0.1.0-SNAPSHOT}. */
    public static String version() {
        return get("diffrep.version");
    }

    /** The JavaCPP version, e.g. {@code 1.5.13}. */
    public static String javacppVersion() {
        return get("javacpp.version");
    }

    /** LibTorch's version and the JavaCPP presets it came with, e.g. {@code 2.10.0 (JavaCPP presets 1.5.13)}. */
    public static String libtorch() {
        String presets = javacppVersion();
        String pytorch = get("pytorch.version");
        String suffix = "-" + presets;
        String torch = pytorch.endsWith(suffix) ? pytorch.substring(0, pytorch.length() - suffix.length()) : pytorch;
        return torch + " (JavaCPP presets " + presets + ")";
    }

    /** The LibTorch artifact built against: {@code pytorch-platform} (CPU) or {@code pytorch-platform-gpu}. */
    public static String libtorchArtifact() {
        return get("pytorch.artifact");
    }

    /** The versions recorded in manifests: {@code diffrep} and {@code libtorch}, in that order. */
    public static Map<String, String> versions() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("diffrep", version());
        m.put("libtorch", libtorch());
        return m;
    }
}
