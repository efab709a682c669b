package org.diffrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.diffrep.io.Json;
import org.diffrep.study.MolrgExperiment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TheoryCommandsTest {

    @Test
    void quickDemoWritesItsReport(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("demo");
        CliRun r = CliRun.of("--threads", "1", "demo", "--quick", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : new String[]{"molrg.json", "molrg.png", "molrg.svg", "bases.npy", "x0.npy", "labels.npy",
                "mnist.json", "mnist.png", "mnist.svg", "mnist-features-quick/manifest.json"}) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        // the real-data part: builtin:unet-mnist on builtin:mnist, its best tap against the raw pixels
        assertTrue(r.out().contains("diffrep demo, real data: builtin:unet-mnist") && r.out().contains("best tap mid")
                && r.out().contains("raw pixels, same probe and split"), r.out());
        JsonNode json = Json.COMPACT.readTree(out.resolve("mnist.json").toFile());
        assertEquals("builtin:unet-mnist", json.at("/settings/model").asText());
        assertEquals(4, json.at("/report/curves/0/points").size());
        double best = json.at("/best/accuracy").asDouble(), pixels = json.get("pixelAccuracy").asDouble();
        assertTrue(best > 0.6 && pixels > 0.6, json.get("best") + " pixels " + pixels);
    }

    @Test
    void molrgRejectsATimestepBeyondTheSchedule(@TempDir Path dir) {
        assertEquals(2, Main.run("molrg", "--T", "100", "--timesteps", "5,200", "--out", dir.toString()));
        assertEquals(2, Main.run("molrg", "--n", "10", "--d", "5", "--K", "3", "--out", dir.toString()));
    }

    @Test
    void molrgNamesTheBadOption(@TempDir Path dir) {
        String[][] cases = {{"--input", "dirty"}, {"--noise-space", "all"}, {"--tolerance", "-1"}, {"--eval-every", "0"},
                {"--patience", "0"}, {"--probe-samples", "1"}, {"--models", dir.resolve("none").toString()}};
        for (String[] c : cases) {
            CliRun r = CliRun.of("--threads", "1", "molrg", "--n", "8", "--d", "2", "--samples", "60", "--test-samples", "10",
                    "--hidden", "8", "--epochs", "1", "--seeds", "1", "--timesteps", "5", c[0], c[1], "--out", dir.toString());
            assertEquals(2, r.code(), String.join(" ", c) + ": " + r.err());
            assertTrue(r.message().contains(c[0]), r.message());
        }
    }

    /** The documented command that trained the demo's networks asks for exactly the demo's training settings. */
    @Test
    void theDemoModelsCommandIsTheDemoTrainingSettings() throws Exception {
        MolrgCommand cmd = new MolrgCommand();
        new CommandLine(cmd).parseArgs(demoCommandArgs(Map.of()));
        assertEquals(Json.COMPACT.writeValueAsString(MolrgExperiment.Settings.demoTraining()),
                Json.COMPACT.writeValueAsString(cmd.settings()));
        assertEquals(Json.COMPACT.writeValueAsString(MolrgExperiment.Settings.demoTraining().toBuilder()
                        .models(MolrgExperiment.Settings.DEMO_MODELS).build()),
                Json.COMPACT.writeValueAsString(MolrgExperiment.Settings.demo()));
    }

    /** The same command at tiny sizes writes one network per seed, and the demo's way of loading them reads them. */
    @Test
    void theDemoModelsCommandRunsAtTinySize(@TempDir Path dir) {
        Path out = dir.resolve("models");
        List<String> args = new ArrayList<>(List.of("--threads", "1", "molrg"));
        args.addAll(Arrays.asList(demoCommandArgs(Map.of("--samples", "300", "--test-samples", "60", "--hidden", "16",
                "--epochs", "4", "--eval-every", "1", "--probe-samples", "100", "--out", out.toString()))));
        args.addAll(List.of("--timesteps", "5,60,140"));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        for (int j = 0; j < 3; j++) {
            assertTrue(Files.exists(out.resolve(MolrgExperiment.modelFile(j))), "seed " + j);
        }
        CliRun load = CliRun.of("--threads", "1", "molrg", "--samples", "300", "--test-samples", "60", "--hidden", "16",
                "--seeds", "3", "--l2", "1e-3", "--timesteps", "5,60,140", "--models", out.toString(), "--out",
                dir.resolve("again").toString());
        assertEquals(0, load.code(), load.err());
        assertTrue(load.out().contains("loaded"), load.out());
    }

    /** The options of {@link MolrgExperiment.Settings#DEMO_MODELS_COMMAND} after "molrg", with some values replaced. */
    private static String[] demoCommandArgs(Map<String, String> replace) {
        String cmd = MolrgExperiment.Settings.DEMO_MODELS_COMMAND;
        String[] words = cmd.substring(cmd.indexOf(" molrg ") + " molrg ".length()).split(" ");
        for (int i = 0; i + 1 < words.length; i++) {
            if (replace.containsKey(words[i])) {
                words[i + 1] = replace.get(words[i]);
            }
        }
        return words;
    }
}
