package org.diffrep.cli;

import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's global behaviour: info, version, threads and exit codes. */
class MainTest {

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void infoReportsVersionsThreadsAndNativeLibrary() {
        CliRun r = run("--threads", "1", "info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("libtorch intra-op 1, native kernels 1"), r.out());
        assertTrue(r.out().contains("native library"), r.out());
        assertTrue(r.out().contains("cuda kernels"), r.out());
        assertTrue(r.out().matches("(?s).*cpu kernels +(avx512|avx2|portable) \\(.*"), r.out());
        assertTrue(r.out().contains("default device"), r.out());
    }

    @Test
    void versionNeedsNoNativeCode() {
        CliRun r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("diffrep "), r.out());
    }

    /** The version printed is the pom's (surefire passes project.version as a system property), not a copy. */
    @Test
    void versionIsThePomVersion() {
        String pom = System.getProperty("diffrep.test.project.version");
        assertNotNull(pom, "surefire should set diffrep.test.project.version (see pom.xml)");
        CliRun r = run("--version");
        assertEquals(0, r.code(), r.err());
        assertEquals("diffrep " + pom, r.out().strip());
        CliRun info = run("--threads", "1", "info");
        assertTrue(info.out().contains("diffrep          " + pom), info.out());
        assertTrue(info.out().contains("libtorch         " + org.diffrep.BuildInfo.libtorch()), info.out());
    }

    /** Help and version are printed once (they were printed twice when the execution strategy ran RunLast after them). */
    @Test
    void helpAndVersionArePrintedOnce() {
        CliRun help = run("--help");
        assertEquals(0, help.code(), help.err());
        assertEquals(help.out().indexOf("Usage: diffrep"), help.out().lastIndexOf("Usage: diffrep"), help.out());
        CliRun sub = run("data", "--help");
        assertEquals(0, sub.code(), sub.err());
        assertEquals(sub.out().indexOf("Usage: diffrep data"), sub.out().lastIndexOf("Usage: diffrep data"), sub.out());
        assertEquals(1, run("--version").out().lines().count());
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, run("--threads", "0", "info").code());
        assertEquals(2, run("no-such-command").code());
        assertEquals(2, run("info", "--bogus").code());
    }
}
