package org.diffrep.io;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The three mappers' settings, as the files diffrep writes depend on them. */
class JsonTest {

    record Layer(String layerName, long rowLength) {
    }

    @Test
    void compactPrettyAndSnakeCase() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", 1);
        m.put("b", List.of(2, 3));
        assertEquals("{\"a\":1,\"b\":[2,3]}", Json.COMPACT.writeValueAsString(m));
        String nl = System.lineSeparator();
        assertEquals("{" + nl + "  \"a\" : 1," + nl + "  \"b\" : [ 2, 3 ]" + nl + "}", Json.PRETTY.writeValueAsString(m));
        assertEquals("{\"layerName\":\"mid\",\"rowLength\":4}", Json.COMPACT.writeValueAsString(new Layer("mid", 4)));
        assertEquals("{" + nl + "  \"layer_name\" : \"mid\"," + nl + "  \"row_length\" : 4" + nl + "}",
                Json.SNAKE_CASE.writeValueAsString(new Layer("mid", 4)));
        assertEquals(new Layer("mid", 4), Json.SNAKE_CASE.readValue("{\"layer_name\":\"mid\",\"row_length\":4}", Layer.class));
    }

    @Test
    void writeIsPrettyAndWhole(@TempDir Path dir) throws Exception {
        record Point(double sigma, double accuracy) {
        }
        Path f = dir.resolve("r.json");
        Object value = Map.of("points", List.of(new Point(0.5, 0.9)), "nan", Double.NaN);
        Json.write(f, value);
        assertEquals(Json.PRETTY.writeValueAsString(value), Files.readString(f));
        JsonNode n = Json.PRETTY.readTree(f.toFile());
        assertEquals(0.9, n.get("points").get(0).get("accuracy").asDouble());
        assertEquals("NaN", n.get("nan").asText());
        assertFalse(Files.exists(AtomicFiles.tempOf(f)));
    }
}
