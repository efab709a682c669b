package org.diffrep.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code diffrep sae}: TopK sparse autoencoders on stored features. */
@Command(name = "sae", mixinStandardHelpOptions = true,
        description = "TopK sparse autoencoders on stored features: train, encode a store, inspect latents.",
        subcommands = {SaeTrainCommand.class, SaeEncodeCommand.class, SaeInspectCommand.class})
final class SaeCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
