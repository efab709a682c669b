package org.diffrep.cli;

import picocli.CommandLine;

/** {@code diffrep --version}: our version, without loading native code. */
final class VersionProvider implements CommandLine.IVersionProvider {

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : BuildInfo.VERSION;
    }

    @Override
    public String[] getVersion() {
        return new String[]{"diffrep " + version()};
    }
}
