package org.diffrep.cli;

import java.util.List;

import org.diffrep.ops.Threads;
import picocli.CommandLine;

/** Applies the global --threads option before any subcommand runs. */
final class ThreadSetting {

    static volatile int requested = 0;

    private ThreadSetting() {
    }

    static final class Strategy implements CommandLine.IExecutionStrategy {
        @Override
        public int execute(CommandLine.ParseResult parseResult) {
            // Help and version need no native library; printed here, once (RunLast would print them again).
            Integer helped = CommandLine.executeHelpRequest(parseResult);
            if (helped != null) {
                return helped;
            }
            if (!isBareUsage(parseResult)) {
                try {
                    Threads.set(requested);
                } catch (RuntimeException e) {
                    // through the ErrorHandler like a command's own failure (a bad DIFFREP_BLAS_THREADS: exit 2)
                    List<CommandLine> commands = parseResult.asCommandLineList();
                    CommandLine last = commands.get(commands.size() - 1);
                    throw new CommandLine.ExecutionException(last, String.valueOf(e.getMessage()), e);
                }
            }
            return new CommandLine.RunLast().execute(parseResult);
        }

        /** {@code diffrep} alone: prints the usage, no native library needed. */
        private static boolean isBareUsage(CommandLine.ParseResult r) {
            return r.subcommands().isEmpty() && r.originalArgs().isEmpty();
        }
    }
}
