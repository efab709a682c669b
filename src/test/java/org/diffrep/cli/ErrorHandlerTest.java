package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a failure looks like on the command line: input errors exit 2 with one line that names the
 * options the user typed (a library error names the configuration field, the handler puts the
 * command's option in its place); anything else thrown by diffrep is a bug: exit 1, said so.
 */
class ErrorHandlerTest {

    @BeforeAll
    static void noDebug() {
        assumeTrue(System.getenv(ErrorHandler.DEBUG) == null, "these tests expect no " + ErrorHandler.DEBUG);
    }

    /** Exit code and stderr of a command that throws {@code failure}, run through picocli with our handler. */
    private record Run(int code, String err) {
    }

    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        RuntimeException failure;

        @Override
        public Integer call() {
            throw failure;
        }
    }

    private static Run throwing(RuntimeException failure) {
        Boom boom = new Boom();
        boom.failure = failure;
        CommandLine cl = new CommandLine(boom);
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler(new ErrorHandler());
        int code = cl.execute();
        return new Run(code, err.toString());
    }

    /** What the handler prints for {@code e} thrown by the subcommand at {@code path} of diffrep. */
    private static Run handled(RuntimeException e, String... path) {
        CommandLine cl = new CommandLine(new Main());
        for (String p : path) {
            cl = cl.getSubcommands().get(p);
        }
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = new ErrorHandler().handleExecutionException(e, cl, null);
        return new Run(code, err.toString());
    }

    @Test
    void contractViolationsAreBugsWithoutAStackTrace() {
        for (RuntimeException e : new RuntimeException[]{
                new IllegalStateException("rows changed from float32[8] to float32[9]"),
                new IllegalArgumentException("x must be [N, C], got [3]"),
                new NullPointerException("layer"),
                new ArrayIndexOutOfBoundsException(7)}) {
            Run r = throwing(e);
            assertEquals(ErrorHandler.RUNTIME_ERROR, r.code(), r.err());
            assertTrue(r.err().startsWith("boom: internal error: "), r.err());
            assertTrue(r.err().contains(e.getClass().getSimpleName()), r.err());
            assertTrue(r.err().contains("this is a bug"), r.err());
            assertTrue(r.err().contains("DIFFREP_DEBUG=1"), r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
        Run r = throwing(new IllegalStateException("rows changed"));
        assertTrue(r.err().contains("rows changed"), r.err());
    }

    @Test
    void inputErrorsExitTwoWithOneLine() {
        Run r = throwing(new InvalidInputException("data.npy: truncated"));
        assertEquals(ErrorHandler.INPUT_ERROR, r.code());
        assertEquals("boom: data.npy: truncated", r.err().strip());
        Run missing = throwing(new java.io.UncheckedIOException(new NoSuchFileException("/no/such.npy")));
        assertEquals(ErrorHandler.INPUT_ERROR, missing.code());
        assertEquals("boom: /no/such.npy: no such file or directory", missing.err().strip());
    }

    @Test
    void runtimeFailuresAreNotCalledBugs() {
        Run r = throwing(new java.io.UncheckedIOException("writing the store failed: the disk is full",
                new java.io.IOException("No space left on device")));
        assertEquals(ErrorHandler.RUNTIME_ERROR, r.code());
        assertTrue(r.err().startsWith("boom: writing the store failed: the disk is full"), r.err());
        assertFalse(r.err().contains("bug"), r.err());
    }

    @Test
    void aFieldIsPrintedAsTheCommandsOption() {
        // an option of a mixin (ExtractOptions), in kebab case
        Run r = handled(InvalidInputException.field("forwardRows", "must be >= 1, got 0"), "extract");
        assertEquals(ErrorHandler.INPUT_ERROR, r.code());
        assertEquals("diffrep extract: --forward-rows must be >= 1, got 0", r.err().strip());
        // several fields in one message; an option of the command itself
        r = handled(InvalidInputException.fields("{noiseDraws} > 1 needs {input} noisy", "noiseDraws", "input"),
                "extract");
        assertEquals("diffrep extract: --noise-draws > 1 needs --input noisy", r.err().strip());
        // an option inside an argument group
        r = handled(InvalidInputException.field("mass", "must be in (0, 1], got 1.5"), "sparsity");
        assertEquals("diffrep sparsity: --mass must be in (0, 1], got 1.5", r.err().strip());
        // fields whose option has another name
        r = handled(InvalidInputException.field("emaDecay", "must be in [0, 1), got 1.0"), "train");
        assertEquals("diffrep train: --ema must be in [0, 1), got 1.0", r.err().strip());
        r = handled(InvalidInputException.field("vpSteps", ": expected >= 2, got 1"), "molrg");
        assertEquals("diffrep molrg: --T: expected >= 2, got 1", r.err().strip());
        // a subcommand of a subcommand
        r = handled(InvalidInputException.fields("{k} must be in [1, {latents}=16], got 20", "k", "latents"),
                "sae", "train");
        assertEquals("diffrep sae train: --k must be in [1, --latents=16], got 20", r.err().strip());
        // a field that no option of this command sets stays as it is
        r = handled(InvalidInputException.field("inputShape", "sizes must be >= 1, got [0]"), "train");
        assertEquals("diffrep train: inputShape sizes must be >= 1, got [0]", r.err().strip());
    }

    @Test
    void everyOptionNameMapsToAnOptionOfSomeCommand() {
        // the explicit names, checked against the commands that use them
        CommandLine main = new CommandLine(new Main());
        String[][] uses = {{"emaDecay", "train", "--ema"}, {"warmupSteps", "train", "--warmup"},
                {"strength", "reconstruct", "--guidance"}, {"untilSigma", "reconstruct", "--guide-until"},
                {"vpSteps", "molrg", "--T"}, {"probeL2", "molrg", "--l2"}, {"scaling", "probe", "--scale"},
                {"kind", "probe", "--probe"}, {"queries", "neighbours", "--query"}};
        for (String[] u : uses) {
            assertEquals(u[2], ErrorHandler.option(main.getSubcommands().get(u[1]).getCommandSpec(), u[0]),
                    u[0] + " in " + u[1]);
        }
    }

    /** A bad setting read before any command runs (the BLAS thread count) is an input error too. */
    @Test
    void aBadThreadSettingExitsTwo() {
        System.setProperty(org.diffrep.ops.Threads.BLAS_PROPERTY, "many");
        try {
            CliRun r = CliRun.of("--threads", "1", "info");
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().startsWith("diffrep info: diffrep.blas.threads / DIFFREP_BLAS_THREADS must be an integer"),
                    r.err());
        } finally {
            System.clearProperty(org.diffrep.ops.Threads.BLAS_PROPERTY);
        }
    }

    /** End to end: a library check (ExtractConfig) reaches the user with the flag they typed. */
    @Test
    void extractNamesTheFlagTheUserTyped(@TempDir Path dir) {
        CliRun r = CliRun.of("--threads", "1", "extract", "--model", dir.resolve("none.safetensors").toString(),
                "--data", "builtin:mnist", "--forward-rows", "0", "--out", dir.resolve("store").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("diffrep extract: --forward-rows must be >= 1, got 0", r.err().strip());
        r = CliRun.of("--threads", "1", "extract", "--model", dir.resolve("none.safetensors").toString(),
                "--data", "builtin:mnist", "--noise-draws", "2", "--out", dir.resolve("store").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("diffrep extract: --noise-draws > 1 needs --input noisy", r.err().strip());
    }
}
