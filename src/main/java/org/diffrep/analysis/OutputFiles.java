package org.diffrep.analysis;

import org.diffrep.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The output directory of an analysis command: created on demand, every file written whole or not at all. */
public final class OutputFiles {

    private OutputFiles() {
    }

    /** Creates {@code dir} (and parents); refuses a path that is a file or a directory it cannot write to. */
    public static Path directory(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw InvalidInputException.field("out", dir + ": exists and is not a directory");
        }
        Path created;
        try {
            created = Files.createDirectories(dir);
        } catch (IOException e) {
            throw InvalidInputException.field("out", dir + ": cannot create: " + e.getMessage());
        }
        if (!Files.isWritable(created)) {
            throw InvalidInputException.field("out", dir + ": the directory is not writable");
        }
        return created;
    }
}
