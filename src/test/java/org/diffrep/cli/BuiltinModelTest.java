package org.diffrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.data.Split;
import org.diffrep.extract.FeatureStore;
import org.diffrep.io.Hashes;
import org.diffrep.io.Json;
import org.diffrep.model.BuiltinModels;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.SafeTensors;
import org.diffrep.model.UNet;
import org.diffrep.train.DatasetImages;
import org.diffrep.train.DenoisingEval;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** builtin:unet-mnist: the UNet in the jar, its recipe (tools/make-unet-mnist), and every model option taking it. */
class BuiltinModelTest {

    private static final Path UNET = Path.of("builtin:unet-mnist");

    /** The shipped file's architecture and provenance are those of the documented command that remakes it. */
    @Test
    void theShippedUnetWasTrainedByTheDocumentedRecipe() throws Exception {
        String script = Files.readString(Path.of("tools/make-unet-mnist"));
        NetworkDenoiser net = ModelFiles.loadNetwork(UNET);
        UNet.Config c = (UNet.Config) net.config();
        assertArrayEquals(Arrays.stream(option(script, "--channels").split(",")).mapToInt(Integer::parseInt).toArray(),
                c.channels());
        assertEquals(128, c.channels()[c.channels().length - 1], "a 128-channel middle block");
        JsonNode prov = Json.COMPACT.readTree(SafeTensors.read(BuiltinModels.resolve(UNET)).metadata()
                .get(ModelFiles.PROVENANCE));
        assertEquals(option(script, "--data"), prov.get("data").asText());
        assertEquals(Long.parseLong(option(script, "--steps")), prov.get("steps").asLong());
        assertEquals(Long.parseLong(option(script, "--batch")), prov.get("batch").asLong());
        assertEquals(Double.parseDouble(option(script, "--lr")), prov.get("lr").asDouble());
        assertEquals("EDM", prov.get("loss").asText());
        assertEquals(0.0, prov.get("daeSigma").asDouble());
    }

    /** It learned to denoise: held-out digits at sigma 0.5 come out closer to the clean ones than per-pixel Wiener's. */
    @Test
    void itDenoisesHeldOutDigitsBetterThanWienerShrinkage() {
        try (PointerScope s = new PointerScope()) {
            Dataset mnist = DataSpec.open("builtin:mnist");
            Split split = Split.choose(mnist, null, 0);
            DatasetImages train = new DatasetImages(mnist, Arrays.copyOf(split.trainIndices(), 2000));
            DatasetImages test = new DatasetImages(mnist, Arrays.copyOf(split.testIndices(), 100));
            DenoisingEval.Result r = DenoisingEval.evaluate(ModelFiles.load(UNET), train, test, 0.5, 1, 100);
            assertTrue(r.modelMse() < 0.5 * r.wienerMse(), r.toString());
        }
    }

    /** extract --model builtin:unet-mnist: the manifest names the model as given and keys it by the resource's sha256. */
    @Test
    void extractTakesItAsAModel(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("store");
        CliRun r = CliRun.of("--threads", "2", "extract", "--model", "builtin:unet-mnist", "--data", "builtin:mnist",
                "--layers", "mid", "--sigmas", "0.5", "--limit", "16", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        FeatureStore store = FeatureStore.open(out);
        assertEquals("builtin:unet-mnist", store.settings().model());
        assertEquals(Hashes.sha256Id(BuiltinModels.resolve(UNET)), store.settings().modelId());
        assertEquals(128, store.features("mid", 0)[0].length);
    }

    @Test
    void anUnknownBuiltinModelIsAnInputErrorListingTheKnownOnes(@TempDir Path dir) {
        CliRun r = CliRun.of("--threads", "1", "extract", "--model", "builtin:unet-cifar", "--data", "builtin:mnist",
                "--sigmas", "0.5", "--limit", "4", "--out", dir.resolve("s").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.message().contains("builtin:unet-cifar") && r.message().contains("builtin:unet-mnist"), r.message());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ModelFiles.load(Path.of("builtin:nothing")));
        assertTrue(e.getMessage().contains("available: builtin:unet-mnist"), e.getMessage());
    }

    /** The value of {@code --name VALUE} in the script. */
    private static String option(String script, String name) {
        Matcher m = Pattern.compile(Pattern.quote(name) + "\\s+(\\S+)").matcher(script);
        assertTrue(m.find(), name + " in tools/make-unet-mnist");
        return m.group(1);
    }
}
