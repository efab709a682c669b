package org.diffrep.bench;

import org.diffrep.BuildInfo;
import org.diffrep.InvalidInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The benchmarks behind {@code tools/bench-*}: one picocli command each. They live in the test
 * sources (package {@code org.diffrep.bench}), so the library jar does not ship them; {@code mvn
 * test-compile} builds them and {@code tools/bench} runs them. Every one prints a table of its
 * figures against the baseline measured in the same run and writes them as JSON with {@code --json}.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        versionProvider = Bench.Version.class,
        description = "diffrep's benchmarks: each figure against its LibTorch baseline, same run, same threads.",
        subcommands = {
                KernelBenchmark.class,
                JmhBenchmark.class,
                ModelBenchmark.class,
                ExtractBenchmark.class,
                SaeBenchmark.class,
                DataBenchmark.class,
                CommandLine.HelpCommand.class,
        })
public final class Bench implements Runnable {

    /** {@code --version}: the diffrep version these benchmarks were built with. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"diffrep benchmarks " + BuildInfo.version()};
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a benchmark command line; exit code 0 ok, 2 usage or input error, 1 runtime failure. */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Bench());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            boolean input = ex instanceof InvalidInputException || ex instanceof IllegalArgumentException;
            line.getErr().println(line.getCommandSpec().qualifiedName() + ": "
                    + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (!input) {
                ex.printStackTrace(line.getErr());
            }
            return input ? 2 : 1;
        });
        return cl.execute(args);
    }
}
