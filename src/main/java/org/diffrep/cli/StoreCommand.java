package org.diffrep.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code diffrep store}: operations on feature stores. */
@Command(name = "store", mixinStandardHelpOptions = true,
        description = "Operations on feature stores: merge the partial stores of a partitioned extraction.",
        subcommands = {StoreMergeCommand.class})
final class StoreCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
