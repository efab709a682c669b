package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import picocli.CommandLine;

/** Maps failures to one line on stderr and the exit codes scripts rely on: 2 input, 1 runtime. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

    static final int INPUT_ERROR = 2;
    static final int RUNTIME_ERROR = 1;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean input = ex instanceof InvalidInputException || ex instanceof IllegalArgumentException
                || ex instanceof java.nio.file.NoSuchFileException;
        String message = ex.getMessage() == null ? ex.toString() : ex.getMessage();
        cl.getErr().println("diffrep " + cl.getCommandName() + ": " + message);
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
