package org.diffrep.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;
import java.util.Map;

import org.diffrep.InvalidInputException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Maps failures to one line on stderr and the exit codes scripts rely on.
 *
 * <ul>
 *   <li>2, input error: an {@link InvalidInputException} (a setting out of range, a bad file), a
 *       missing or unreadable file. A message that names a configuration field
 *       ({@link InvalidInputException#field}) is printed with the command's option in its place:
 *       {@code forwardRows} becomes {@code --forward-rows}, the flag the user typed.</li>
 *   <li>1, runtime failure: an I/O error (a full disk), a LibTorch error (its first line only).</li>
 *   <li>1, bug: any other exception ({@link IllegalArgumentException}, {@link IllegalStateException},
 *       {@link NullPointerException}, ...): a contract inside diffrep was broken, whatever the input.
 *       The message says so; {@code DIFFREP_DEBUG=1} prints the stack trace.</li>
 * </ul>
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

    static final int INPUT_ERROR = 2;
    static final int RUNTIME_ERROR = 1;
    /** How LibTorch's C++ stack traces begin (c10::Error messages). */
    static final String LIBTORCH_TRACE = "Exception raised from";
    /** Environment variable that asks for stack traces. */
    static final String DEBUG = "DIFFREP_DEBUG";

    /**
     * Configuration fields whose option is not the field's name in kebab case, with that option.
     * Used only where the command has the option; otherwise the next rule applies.
     */
    private static final Map<String, String> OPTION_NAMES = Map.ofEntries(
            Map.entry("emaDecay", "--ema"),
            Map.entry("warmupSteps", "--warmup"),
            Map.entry("strength", "--guidance"),
            Map.entry("untilSigma", "--guide-until"),
            Map.entry("vpSteps", "--T"),
            Map.entry("probeL2", "--l2"),
            Map.entry("scaling", "--scale"),
            Map.entry("kind", "--probe"),
            Map.entry("queries", "--query"),
            Map.entry("kernelFiles", "--kernel-file"));

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean debug = System.getenv(DEBUG) != null;
        // the whole command path: "diffrep sae train", not "diffrep train"
        String command = cl.getCommandSpec().qualifiedName();
        if (isInputError(ex)) {
            cl.getErr().println(command + ": " + inputMessage(ex, cl.getCommandSpec()));
            if (debug) {
                ex.printStackTrace(cl.getErr());
            }
            return INPUT_ERROR;
        }
        String message = ex.getMessage() == null ? ex.toString() : ex.getMessage();
        if (message.contains(LIBTORCH_TRACE)) {
            // a LibTorch error that no check turned into a message of ours: its first line says what
            // went wrong, the C++ stack trace after it says nothing to a user
            message = message.lines().filter(l -> !l.isBlank()).findFirst().orElse(message).strip();
            cl.getErr().println(command + ": " + message);
        } else if (ex instanceof IOException || ex instanceof UncheckedIOException
                || ex instanceof org.diffrep.ops.UserKernelException) {
            // the machine, or a user's own kernel, not diffrep: a full disk, a file that vanished mid-run
            cl.getErr().println(command + ": " + message);
        } else {
            cl.getErr().println(command + ": internal error: " + message + " (" + ex.getClass().getSimpleName() + ")");
            cl.getErr().println("this is a bug in diffrep, please report it with the command line that caused it");
        }
        if (debug) {
            ex.printStackTrace(cl.getErr());
        } else {
            cl.getErr().println("(set " + DEBUG + "=1 for the stack trace)");
        }
        return RUNTIME_ERROR;
    }

    /** Bad input: our own check, or a file the user named that is not there or not readable. */
    static boolean isInputError(Throwable ex) {
        if (ex instanceof UncheckedIOException u) {
            ex = u.getCause();
        }
        return ex instanceof InvalidInputException || ex instanceof NoSuchFileException
                || ex instanceof FileNotFoundException || ex instanceof NotDirectoryException
                || ex instanceof AccessDeniedException;
    }

    private static String inputMessage(Exception ex, CommandSpec spec) {
        if (ex instanceof InvalidInputException bad) {
            return bad.message(field -> option(spec, field));
        }
        Throwable t = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        if (t instanceof NoSuchFileException f) {
            return f.getFile() + ": no such file or directory";
        }
        if (t instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (t instanceof NotDirectoryException f) {
            return f.getFile() + ": not a directory";
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /**
     * The option of {@code spec} that sets the configuration field {@code field}: the explicit name
     * in {@link #OPTION_NAMES}, the field in kebab case ({@code forwardRows -> --forward-rows}), the
     * field as it is ({@code K -> --K}), or the option whose annotated Java field has the field's
     * name; each only where the command (with its mixins and argument groups) has that option. A
     * field that no option sets is printed as it is.
     */
    static String option(CommandSpec spec, String field) {
        for (String name : new String[]{OPTION_NAMES.get(field), "--" + kebab(field), "--" + field}) {
            if (name != null && spec.findOption(name) != null) {
                return name;
            }
        }
        for (OptionSpec o : spec.options()) {
            if (o.userObject() instanceof Field f && f.getName().equals(field)) {
                return o.longestName();
            }
        }
        return field;
    }

    /** {@code forwardRows -> forward-rows}, {@code kAux -> k-aux}. */
    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }
}
