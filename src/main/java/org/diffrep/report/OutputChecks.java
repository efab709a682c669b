package org.diffrep.report;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.diffrep.InvalidInputException;

/**
 * Checks, before any work starts, that an output can be written, so that a long run does not fail
 * only when it saves its result. The test is the real one: the directory that will hold the output
 * is created (as the run would create it) and a probe file is created in it and deleted again; this
 * catches read-only directories and file systems whatever the user's rights. Directories made
 * for the probe are removed again, so a run refused later leaves nothing behind.
 */
public final class OutputChecks {

    private OutputChecks() {
    }

    /**
     * Checks that {@code file} can be written (created, or replaced by a rename): it is not a
     * directory, an existing file is writable, and its directory can be created and written.
     *
     * @param option the option that names the file, e.g. {@code --out}
     */
    public static void file(Path file, String option) {
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(option + " " + file + ": is a directory; give a file name");
        }
        if (Files.exists(file) && !Files.isWritable(file)) {
            throw new InvalidInputException(option + " " + file + ": exists and is not writable");
        }
        Path parent = file.toAbsolutePath().getParent();
        probe(parent, option + " " + file);
    }

    /** Checks that {@code dir} is, or can be created as, a directory in which files can be written. */
    public static void directory(Path dir, String option) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new InvalidInputException(option + " " + dir + ": exists and is not a directory");
        }
        probe(dir.toAbsolutePath(), option + " " + dir);
    }

    private static void probe(Path dir, String what) {
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw new InvalidInputException(what + ": " + p + " is a file, so no directory can be made in it");
                }
                break;
            }
        }
        Path firstMissing = null;
        for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) {
            firstMissing = p;
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new InvalidInputException(what + ": cannot create the directory " + dir + " (" + reason(e) + ")");
        }
        try {
            Path probe = Files.createTempFile(dir, ".diffrep-write-check", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new InvalidInputException(what + ": cannot write in " + dir + " (" + reason(e) + ")");
        } finally {
            // leave no trace: the run creates the directories again when it writes
            for (Path p = dir; firstMissing != null && p != null && p.startsWith(firstMissing); p = p.getParent()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    break;
                }
            }
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
