package org.diffrep.bench;

import org.diffrep.io.Json;
import org.diffrep.ops.Threads;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** Options every benchmark takes: the thread count and where the JSON goes. */
final class BenchOptions {

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Threads for LibTorch and the native kernels together (0: all cores; default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures to FILE as JSON.")
    Path json;

    /** Applies {@code --threads} (OpenBLAS gets one thread, as in the CLI; see Threads). */
    void applyThreads() {
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        }
        Threads.set(threads);
    }

    /** Writes {@code doc} to {@code --json} when given, and says so. */
    void writeJson(Object doc) throws IOException {
        if (json != null) {
            Json.write(json, doc);
            System.out.println("wrote " + json);
        }
    }
}
