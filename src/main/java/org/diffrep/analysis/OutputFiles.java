package org.diffrep.analysis;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.diffrep.InvalidInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The output directory of an analysis command: created on demand, every file written whole or not at all. */
public final class OutputFiles {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

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

    /** Writes an object (records, maps, arrays) as indented JSON via a temp file and a rename. */
    public static void writeJson(Path file, Object value) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            JSON.writeValue(tmp.toFile(), value);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write", e);
        }
    }
}
