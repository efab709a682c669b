package org.diffrep.cli;

/** Versions this build was made against. */
final class BuildInfo {
    static final String VERSION = "0.1.0-SNAPSHOT";
    static final String LIBTORCH = "2.10.0 (JavaCPP presets 1.5.13)";

    private BuildInfo() {
    }
}
