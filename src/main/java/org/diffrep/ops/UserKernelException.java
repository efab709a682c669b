package org.diffrep.ops;

/**
 * A user kernel (a shared-library function, or CUDA source compiled at run time) that cannot be
 * loaded, compiled or run. {@link #kind} says which, so that callers can tell a user's input error
 * (a missing library or symbol, a compile error: exit 2) from a failure while running (exit 1).
 */
public final class UserKernelException extends RuntimeException {

    /** What went wrong. */
    public enum Kind {
        /** the library, or a function in it, is missing or cannot be loaded */
        MISSING,
        /** NVRTC rejected the source: {@link #log} holds the compile log */
        COMPILE,
        /** NVRTC, the CUDA driver or a GPU is not available on this machine */
        UNAVAILABLE,
        /** the kernel reported an error, or the launch failed */
        FAILED
    }

    private final Kind kind;
    private final String log;

    public UserKernelException(Kind kind, String message) {
        this(kind, message, null, null);
    }

    public UserKernelException(Kind kind, String message, String log, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.log = log;
    }

    public Kind kind() {
        return kind;
    }

    /** The compiler's log ({@link Kind#COMPILE}), else null. */
    public String log() {
        return log;
    }
}
