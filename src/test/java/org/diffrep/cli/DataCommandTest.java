package org.diffrep.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataCommandTest {

    @Test
    void builtinMnistHasTenThousandDigitsInTenClasses() {
        CliRun r = CliRun.of("data", "--data", "builtin:mnist");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("source       builtin:mnist"), r.out());
        assertTrue(r.out().contains("samples      10000 "), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.equals("classes      10")), r.out());
        assertTrue(r.out().contains("8000 train, 2000 test"), r.out());
        int[] counts = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
        for (int k = 0; k < 10; k++) {
            assertTrue(r.out().matches("(?s).*\\n\\s+" + k + "\\s+" + k + "\\s+" + counts[k] + " .*"), r.out());
        }
        CliRun bad = CliRun.of("data", "--data", "builtin:fashion");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("no built-in data set named 'fashion'; available: builtin:mnist"), bad.err());
    }

    @Test
    void summaryOfMnistAndExitCodeForBadSpec() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Main.run("data", "--data", "builtin:mnist", "--train-frac", "0.5", "--label-noise", "0.4");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        assertTrue(out.contains("samples      10000"), out);
        assertTrue(out.contains("[1, 28, 28]"), out);
        // Stratified: per class round(0.5 * count), e.g. 1001 -> 501, 1127 -> 564; 5002 in all.
        assertTrue(out.contains("5002 train, 4998 test"), out);
        assertTrue(out.contains("label noise  " + Math.round(0.4 * countTrain(out)) + " of"), out);
        assertTrue(out.matches("(?s).*\\n\\s+1\\s+1\\s+1127 .*"), out);

        PrintStream oldErr = System.err;
        System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            assertEquals(2, Main.run("data", "--data", "idx:does/not/exist"));
            assertEquals(2, Main.run("data", "--data", "cifar7:x"));
        } finally {
            System.setErr(oldErr);
        }
    }

    private static int countTrain(String out) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("split\\s+(\\d+) train").matcher(out);
        assertTrue(m.find(), out);
        return Integer.parseInt(m.group(1));
    }
}
