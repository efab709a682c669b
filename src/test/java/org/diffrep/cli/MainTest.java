package org.diffrep.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's global behaviour: info, version, threads and exit codes. */
class MainTest {

    /** Exit code and what the command printed on stdout and stderr. */
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void infoReportsVersionsThreadsAndNativeLibrary() {
        Run r = run("--threads", "1", "info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("libtorch intra-op 1, native kernels 1"), r.out());
        assertTrue(r.out().contains("native library"), r.out());
        assertTrue(r.out().contains("cuda kernels"), r.out());
        assertTrue(r.out().contains("default device"), r.out());
    }

    @Test
    void versionNeedsNoNativeCode() {
        Run r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("diffrep "), r.out());
    }

    /** The version printed is the pom's (surefire passes project.version as a system property), not a copy. */
    @Test
    void versionIsThePomVersion() {
        String pom = System.getProperty("diffrep.test.project.version");
        assertNotNull(pom, "surefire should set diffrep.test.project.version (see pom.xml)");
        Run r = run("--version");
        assertEquals(0, r.code(), r.err());
        assertEquals("diffrep " + pom, r.out().strip());
        Run info = run("--threads", "1", "info");
        assertTrue(info.out().contains("diffrep          " + pom), info.out());
        assertTrue(info.out().contains("libtorch         " + org.diffrep.BuildInfo.libtorch()), info.out());
    }

    /** Help and version are printed once (they were printed twice when the execution strategy ran RunLast after them). */
    @Test
    void helpAndVersionArePrintedOnce() {
        Run help = run("--help");
        assertEquals(0, help.code(), help.err());
        assertEquals(help.out().indexOf("Usage: diffrep"), help.out().lastIndexOf("Usage: diffrep"), help.out());
        Run sub = run("data", "--help");
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
