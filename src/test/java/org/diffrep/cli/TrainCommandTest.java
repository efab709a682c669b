package org.diffrep.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {

    @Test
    void badOptionsExitWithTwoAndWriteNothing(@TempDir Path dir) {
        Path out = dir.resolve("m.safetensors");
        assertEquals(2, Main.run("train", "--data", "builtin:mnist", "--model", "cnn", "--out", out.toString()));
        assertEquals(2, Main.run("train", "--data", "builtin:mnist", "--parametrisation", "ddim",
                "--out", out.toString()));
        assertEquals(2, Main.run("train", "--data", "builtin:mnist", "--model", "mlp", "--activation", "tanh",
                "--out", out.toString()));
        assertFalse(Files.exists(out));
    }
}
