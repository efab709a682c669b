package org.diffrep.cli;

import org.diffrep.extract.StoreMerge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** {@code diffrep store merge PART... --out DIR}: joins the partial stores of one run ({@link StoreMerge}). */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Join the complete partial stores of one run (extract --partition I/N, I = 0..N-1, in any"
                + " order) into the store one process would write, byte for byte (see docs/FEATURE_STORE.md).")
final class StoreMergeCommand implements Runnable {

    @Parameters(arity = "1..*", paramLabel = "PART", description = "The partial store directories.")
    List<Path> parts;


    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Merged store directory (new or empty).")
    Path out;


    @Override
    public void run() {
        try {
            System.out.println(StoreMerge.merge(parts, out));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("store merge into " + out + " failed: " + e.getMessage(), e);
        }
    }
}
