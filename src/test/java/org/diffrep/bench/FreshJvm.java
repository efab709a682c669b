package org.diffrep.bench;

import org.diffrep.io.Json;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one benchmark command in a fresh JVM (this JVM's classpath and options, its own heap), so that a peak
 * resident memory (VmHWM) is that run's alone, and returns the figures it wrote with {@code --json}.
 */
final class FreshJvm {

    private FreshJvm() {
    }

    /**
     * @param heap  the child's -Xmx, e.g. "1g"
     * @param what  what the run is, for the error message
     * @param args  the bench command line (without --json)
     */
    static Object run(String heap, String what, List<String> args) throws IOException, InterruptedException {
        Path json = Files.createTempFile("bench-fresh-jvm", ".json");
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            cmd.add("-Xmx" + heap);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Bench.class.getName()));
            cmd.addAll(args);
            cmd.addAll(List.of("--json", json.toString()));
            // its output through this JVM's System.out (not the inherited descriptor: under a test runner
            // that is the runner's channel), without the line about the temporary JSON
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                lines.lines().filter(l -> !l.equals("wrote " + json)).forEach(System.out::println);
            }
            int rc = p.waitFor();
            if (rc != 0) {
                throw new IllegalStateException(what + " failed (exit code " + rc + ")");
            }
            return Json.COMPACT.readValue(json.toFile(), Object.class);
        } finally {
            Files.deleteIfExists(json);
        }
    }
}
