package org.diffrep.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TheoryCommandsTest {

    @Test
    void quickDemoWritesItsReport(@TempDir Path dir) {
        Path out = dir.resolve("demo");
        assertEquals(0, Main.run("--threads", "1", "demo", "--quick", "--out", out.toString()));
        for (String f : new String[]{"molrg.json", "molrg.png", "molrg.svg", "bases.npy", "x0.npy", "labels.npy"}) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
    }

    @Test
    void molrgRejectsATimestepBeyondTheSchedule(@TempDir Path dir) {
        assertEquals(2, Main.run("molrg", "--T", "100", "--timesteps", "5,200", "--out", dir.toString()));
        assertEquals(2, Main.run("molrg", "--n", "10", "--d", "5", "--K", "3", "--out", dir.toString()));
    }
}
