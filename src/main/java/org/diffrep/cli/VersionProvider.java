package org.diffrep.cli;

import org.diffrep.BuildInfo;
import picocli.CommandLine;

/** {@code diffrep --version}: our version, without loading native code. */
final class VersionProvider implements CommandLine.IVersionProvider {

    static String version() {
        return BuildInfo.version();
    }

    @Override
    public String[] getVersion() {
        return new String[]{"diffrep " + version()};
    }
}
