package org.diffrep.cli;

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
            // Help and version need no native library. printHelpIfRequested prints them; RunLast would
            // print them a second time, so a help request ends here.
            if (CommandLine.printHelpIfRequested(parseResult)) {
                return parseResult.commandSpec().exitCodeOnUsageHelp();
            }
            if (!isVersion(parseResult)) {
                Threads.set(requested);
            }
            return new CommandLine.RunLast().execute(parseResult);
        }

        private static boolean isVersion(CommandLine.ParseResult r) {
            return r.isVersionHelpRequested() || r.subcommands().isEmpty() && r.originalArgs().isEmpty();
        }
    }
}
