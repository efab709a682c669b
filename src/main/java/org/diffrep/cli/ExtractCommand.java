package org.diffrep.cli;

import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.ExtractSummary;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.Partition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code diffrep extract}: features of a denoiser at taps x noise levels into a feature store. */
@Command(name = "extract", mixinStandardHelpOptions = true,
        description = "Extract pooled features of a denoiser at chosen layers and noise levels into a feature store"
                + " (see docs/FEATURE_STORE.md).")
final class ExtractCommand implements Runnable {

    @Mixin
    ExtractOptions extraction;

    @Mixin
    StoreOptions store;


    @Option(names = "--partition", paramLabel = "I/N",
            description = "Compute only partition I of N (0 <= I < N) of the selected images, the ranks"
                    + " [floor(I*M/N), floor((I+1)*M/N)) of the M images, into a partial store in --out; join the N"
                    + " complete parts with diffrep store merge. The features are byte-identical to the same rows"
                    + " of a one-process run (default: all images).")
    String partition;


    @Override
    public void run() {
        ExtractConfig cfg = store.apply(extraction.builder())
                .partition(partition == null ? null : Partition.parse(partition)).build();
        // Progress and the summary line go to stderr; stdout gets the store directory.
        ExtractSummary sum = new Extractor(cfg).run();
        System.out.println(sum.store());
    }
}
