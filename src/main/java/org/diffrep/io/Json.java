package org.diffrep.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.nio.file.Path;

/**
 * The Jackson mappers of diffrep, configured once here (all other settings are Jackson's defaults; NaN and
 * infinities are written as the strings "NaN", "Infinity"). Each is shared and thread-safe: use it, never
 * reconfigure it.
 */
public final class Json {

    /** Compact output: JSON embedded in other files (safetensors headers and metadata), and all parsing. */
    public static final ObjectMapper COMPACT = new ObjectMapper();

    /** Indented output (Jackson's default pretty printer): reports, summaries and benchmark results. */
    public static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Indented output with snake_case property names: the feature store's manifest.json. */
    public static final ObjectMapper SNAKE_CASE = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    /**
     * Writes {@code value} (records, maps, lists, arrays) as indented JSON ({@link #PRETTY}) to {@code file},
     * whole or not at all.
     */
    public static void write(Path file, Object value) {
        AtomicFiles.write(file, out -> PRETTY.writeValue(out, value));
    }
}
