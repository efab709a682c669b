package org.diffrep;

/**
 * Bad input from the user: a file that is missing, truncated or of the wrong format, a shape a
 * model cannot take, an option out of range. The message names the file or option, the field and
 * what was expected. The command line maps it to exit code 2.
 */
public class InvalidInputException extends RuntimeException {

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
