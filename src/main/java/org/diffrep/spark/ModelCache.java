package org.diffrep.spark;

import org.diffrep.InvalidInputException;
import org.diffrep.extract.Extractor;
import org.diffrep.model.Denoiser;
import org.diffrep.model.ModelFiles;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One model per executor JVM: loaded by the first task (or transformer partition) that needs it and kept for
 * every later task of the application, keyed by path and sha256 so that a file rewritten between jobs is loaded
 * again. Loading is what costs (native start, weights); a forward in inference mode does not change the model,
 * so the concurrent tasks of one executor share it. A model moved to a GPU is another entry (key: path, sha256 and
 * device), so tasks of one executor on different GPUs never move a shared model under each other.
 */
final class ModelCache {

    private static final Map<String, Denoiser> MODELS = new ConcurrentHashMap<>();

    private ModelCache() {
    }

    /**
     * The model in {@code file} whose sha256 the driver found to be {@code modelId}.
     *
     * @throws InvalidInputException naming the field model when this host's file has other contents
     */
    static Denoiser get(Path file, String modelId) {
        return get(file, modelId, "cpu");
    }

    /** The model as {@link #get(Path, String)}, for the device the task runs on (the Extractor moves it there once). */
    static Denoiser get(Path file, String modelId, String device) {
        return MODELS.computeIfAbsent(file.toAbsolutePath() + "#" + modelId + "@" + device, k -> {
            String here = Extractor.fileId(file);
            if (!here.equals(modelId)) {
                throw InvalidInputException.field("model", file + ": on this executor its sha256 is " + here
                        + ", on the driver " + modelId + "; every node must see the same model file");
            }
            Denoiser m = ModelFiles.load(file);
            m.train(false);
            return m;
        });
    }
}
