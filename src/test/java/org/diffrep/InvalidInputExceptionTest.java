package org.diffrep;

import org.diffrep.data.DataSpec;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.noise.SigmaGrid;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Errors in settings name the configuration field a Java caller set, never a command-line flag. */
class InvalidInputExceptionTest {

    @Test
    void aFieldErrorReadsWithTheFieldsName() {
        InvalidInputException e = InvalidInputException.field("forwardRows", "must be >= 1, got 0");
        assertEquals("forwardRows must be >= 1, got 0", e.getMessage());
        assertEquals("forwardRows", e.field());
        assertEquals("--forward-rows must be >= 1, got 0", e.message(f -> "--forward-rows"));
        assertEquals("layers: unknown layer 'x'", InvalidInputException.field("layers", ": unknown layer 'x'").getMessage());
    }

    @Test
    void severalFieldsAndLiteralText() {
        InvalidInputException e = InvalidInputException.fields("{noiseDraws} > 1 needs {input} noisy", "noiseDraws", "input");
        assertEquals("noiseDraws > 1 needs input noisy", e.getMessage());
        assertEquals(List.of("noiseDraws", "input"), e.fields());
        assertEquals("[noiseDraws] > 1 needs [input] noisy", e.message(f -> "[" + f + "]"));
        // text from the user is never a reference, even when it looks like one
        InvalidInputException path = InvalidInputException.field("out", "runs/{out}/x: not writable");
        assertEquals("out runs/{out}/x: not writable", path.getMessage());
        assertEquals("--out runs/{out}/x: not writable", path.message(f -> "--" + f));
        InvalidInputException lit = InvalidInputException.fields("{resume}: " + InvalidInputException.literal("a/{resume}")
                + " differs", "resume");
        assertEquals("--resume: a/{resume} differs", lit.message(f -> "--" + f));
        // a plain message has no field
        InvalidInputException plain = new InvalidInputException("x.npy: truncated");
        assertNull(plain.field());
        assertEquals("x.npy: truncated", plain.message(f -> "--" + f));
    }

    @Test
    void libraryChecksNameFieldsNotFlags() {
        List<Supplier<Object>> bad = List.of(
                () -> ExtractConfig.builder().out(Path.of("store")).batch(0).build(),
                () -> ExtractConfig.builder().out(Path.of("store")).forwardRows(0).build(),
                () -> ExtractConfig.builder().out(Path.of("store")).noiseDraws(2).build(),
                () -> ExtractConfig.builder().build(),
                () -> SigmaGrid.parse("0.1,abc"),
                () -> DataSpec.parse("nosuch:x"));
        List<String> expected = List.of("batch must be >= 1, got 0", "forwardRows must be >= 1, got 0",
                "noiseDraws > 1 needs input noisy", "out is required", "sigmas 0.1,abc: expected a number, got 'abc'",
                "data nosuch:x: unknown kind 'nosuch'");
        for (int i = 0; i < bad.size(); i++) {
            InvalidInputException e = assertThrows(InvalidInputException.class, bad.get(i)::get);
            assertFalse(e.getMessage().contains("--"), e.getMessage());
            assertEquals(expected.get(i), e.getMessage().substring(0, Math.min(e.getMessage().length(),
                    expected.get(i).length())), e.getMessage());
        }
    }
}
