package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import picocli.CommandLine;

/** Maps failures to one line on stderr and the exit codes scripts rely on: 2 input, 1 runtime. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

    static final int INPUT_ERROR = 2;
    static final int RUNTIME_ERROR = 1;
    /** How LibTorch's C++ stack traces begin (c10::Error messages). */
    static final String LIBTORCH_TRACE = "Exception raised from";

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean input = ex instanceof InvalidInputException || ex instanceof IllegalArgumentException
                || ex instanceof java.nio.file.NoSuchFileException;
        String message = ex.getMessage() == null ? ex.toString() : ex.getMessage();
        if (message.contains(LIBTORCH_TRACE)) {
            // a LibTorch error that no check turned into a message of ours: its first line says what
            // went wrong, the C++ stack trace after it says nothing to a user
            message = message.lines().filter(l -> !l.isBlank()).findFirst().orElse(message).strip();
        }
        // the whole command path: "diffrep sae train", not "diffrep train"
        cl.getErr().println(cl.getCommandSpec().qualifiedName() + ": " + message);
        if (!input || System.getenv("DIFFREP_DEBUG") != null) {
            if (System.getenv("DIFFREP_DEBUG") != null) {
                ex.printStackTrace(cl.getErr());
            } else {
                cl.getErr().println("(set DIFFREP_DEBUG=1 for the stack trace)");
            }
        }
        return input ? INPUT_ERROR : RUNTIME_ERROR;
    }
}
