package org.diffrep.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.diffrep.InvalidInputException;
import org.diffrep.io.Json;
import org.diffrep.model.MlpDenoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.SafeTensors;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** Trained MoLRG networks read back: from a directory, or from the jar ({@code classpath:/path/}). */
final class MolrgModels {

    static final String CLASSPATH = "classpath:";

    private MolrgModels() {
    }

    /**
     * Loads {@code source + file} and checks that it is the experiment's MLP (VP, 2 hidden layers) on
     * vectors of {@code n} with width {@code hidden}; otherwise an input error naming {@code models}.
     */
    /** Where {@code file} of {@code source} is, for people: the resource name or the file's path. */
    static String where(String source, String file) {
        return source.startsWith(CLASSPATH) ? source + file : Path.of(source).resolve(file).toString();
    }

    /** A loaded network with what its provenance says: training steps (-1 if unknown) and why training stopped. */
    record Loaded(MlpDenoiser mlp, long steps, String stopReason) {
    }

    static Loaded load(String source, String file, int n, int hidden) {
        Path path;
        Path temp = null;
        try {
            if (source.startsWith(CLASSPATH)) {
                String name = source.substring(CLASSPATH.length()) + file;
                try (InputStream in = MolrgModels.class.getResourceAsStream(name)) {
                    if (in == null) {
                        throw InvalidInputException.fields("{models}: no resource " + name + " in the jar", "models");
                    }
                    temp = Files.createTempFile("diffrep-molrg-", ".safetensors");
                    Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                }
                path = temp;
            } else {
                path = Path.of(source).resolve(file);
                if (!Files.isRegularFile(path)) {
                    throw InvalidInputException.fields("{models}: no file " + path, "models");
                }
            }
            NetworkDenoiser net = ModelFiles.loadNetwork(path);
            if (!(net instanceof MlpDenoiser mlp) || !(net.config() instanceof MlpDenoiser.Config c)
                    || c.inputShape().length != 1 || c.inputShape()[0] != n || c.width() != hidden || c.depth() != 2
                    || c.parametrisation() != Parametrisation.VP) {
                throw InvalidInputException.fields("{models}: " + source + file + " is not the experiment's network"
                        + " (a VP MLP with 2 hidden layers of width {hidden} " + hidden + " on vectors of {n} " + n + "): "
                        + ModelFiles.configJson(net), "models", "hidden", "n");
            }
            mlp.train(false);
            long steps = -1;
            String reason = "?";
            String prov = SafeTensors.read(path).metadata().get(ModelFiles.PROVENANCE);
            if (prov != null) {
                JsonNode node = Json.COMPACT.readTree(prov);
                steps = node.path("steps").asLong(-1);
                reason = node.path("stopReason").asText("?");
            }
            return new Loaded(mlp, steps, reason);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a temporary copy; the system cleans its directory
                }
            }
        }
    }

    /** The training record of a loaded network: steps and stop reason from its provenance, the gap measured now. */
    static MolrgExperiment.Training training(int seedIndex, Loaded l, double gap, String source) {
        return new MolrgExperiment.Training(seedIndex, l.steps(), l.stopReason(), gap,
                Double.NaN, 0, List.of(), source);
    }
}
