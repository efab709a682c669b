package org.diffrep.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.nio.file.Path;

/** JSON reports: pretty-printed, written atomically; records, maps, lists and arrays as Jackson writes them. */
public final class JsonReports {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReports() {
    }

    /** The shared mapper (NaN and infinities are written as the strings "NaN", "Infinity"). */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Writes {@code value} as JSON to {@code file}, whole or not at all. */
    public static void write(Path file, Object value) {
        AtomicFiles.write(file, out -> MAPPER.writeValue(new NonClosing(out), value));
    }

    /** Jackson closes the stream it writes to; the atomic writer closes it itself. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(java.io.OutputStream out) {
            super(out);
        }

        @Override
        public void close() throws java.io.IOException {
            flush();
        }
    }
}
