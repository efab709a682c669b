package org.diffrep.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code diffrep} command: global options and the list of subcommands. */
@Command(name = "diffrep",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "What diffusion denoisers know: extract, probe, cluster and explain their features.",
        subcommands = {
                DemoCommand.class,
                InfoCommand.class,
                DataCommand.class,
                TrainCommand.class,
                ExtractCommand.class,
                ProbeCommand.class,
                SweepCommand.class,
                RunCommand.class,
                MolrgCommand.class,
                ClusterCommand.class,
                SparsityCommand.class,
                NeighboursCommand.class,
                CompareCommand.class,
                SampleCommand.class,
                ReconstructCommand.class,
                MemorisationCommand.class,
                SaeCommand.class,
                StoreCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    @Option(names = "--threads", scope = CommandLine.ScopeType.INHERIT, paramLabel = "N",
            description = "Threads for LibTorch and the native kernels together (default: all cores).")
    void setThreads(int threads) {
        if (threads < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--threads must be >= 1, got " + threads);
        }
        ThreadSetting.requested = threads;
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

    /**
     * The command line with every subcommand: enum options converted from their spellings, defaults
     * taken from the library's configurations and shown as typed (see {@link Choices}).
     */
    static CommandLine commandLine() {
        return Choices.configure(new CommandLine(new Main()));
    }

    /** Runs the command line and returns the exit code (0 ok, 1 runtime failure or bug, 2 usage or input error). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        cl.setExecutionStrategy(new ThreadSetting.Strategy());
        return execute(cl, args);
    }

    /**
     * Runs another entry point's picocli command (Spark's {@code SparkExtract}) as diffrep's own run: the same
     * option spellings and defaults ({@link Choices}), the same messages and exit codes ({@link ErrorHandler}).
     * There is no global --threads: such a command sets its threads itself.
     */
    public static int runCommand(Object command, String... args) {
        CommandLine cl = Choices.configure(new CommandLine(command));
        if (cl.getCommandSpec().versionProvider() == null && cl.getCommandSpec().version().length == 0) {
            cl.getCommandSpec().versionProvider(new VersionProvider()); // --version prints diffrep's
        }
        return execute(cl, args);
    }

    private static int execute(CommandLine cl, String... args) {
        cl.setExecutionExceptionHandler(new ErrorHandler());
        try {
            return cl.execute(args);
        } catch (UnsatisfiedLinkError e) {
            // The native library is missing or from another build (NativeAbi): its message says which file and how
            // to fix it; one line, not a stack trace.
            cl.getErr().println("diffrep: " + e.getMessage());
            if (System.getenv("DIFFREP_DEBUG") != null) {
                e.printStackTrace(cl.getErr());
            } else {
                cl.getErr().println("(set DIFFREP_DEBUG=1 for the stack trace)");
            }
            cl.getErr().flush();
            return ErrorHandler.RUNTIME_ERROR;
        } catch (OutOfMemoryError e) {
            // the sizes are checked up front; this is what is left: one line, not a JVM trace
            cl.getErr().println("diffrep: out of memory (" + e.getMessage() + "); the Java heap limit is "
                    + org.diffrep.ops.MemoryBudget.human(Runtime.getRuntime().maxMemory())
                    + " (-Xmx, JAVA_OPTS); use smaller sizes (--batch, --samples)");
            return ErrorHandler.RUNTIME_ERROR;
        }
    }
}
