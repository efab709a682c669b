package org.diffrep.model;

import org.diffrep.InvalidInputException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Models shipped inside the jar, named {@code builtin:NAME} wherever a model file is accepted ({@code --model
 * builtin:unet-mnist}, an ExtractConfig's model path, a plan's model). {@code builtin:unet-mnist} is a small UNet
 * trained by diffrep's own recipe on the training split of {@code builtin:mnist} (docs/MODELS.md gives the command
 * that remakes it, {@code tools/make-unet-mnist}). A named model is copied once per JVM from the classpath into a
 * temporary file (deleted on exit), which is then read like any model file; its sha256 is that of the resource, so
 * feature stores and plan caches key it by content as they do a file.
 */
public final class BuiltinModels {

    /** The prefix that names a built-in model. */
    public static final String PREFIX = "builtin:";

    /** Classpath folder of the built-in models. */
    public static final String ROOT = "/org/diffrep/models/";

    /** Each built-in model's file under {@link #ROOT}. */
    private static final Map<String, String> MODELS = new TreeMap<>(Map.of("unet-mnist", "unet-mnist.safetensors"));

    /** Name -> its temporary copy, made once per JVM. */
    private static final Map<String, Path> COPIES = new ConcurrentHashMap<>();

    private BuiltinModels() {
    }

    /** The names {@code builtin:} accepts for a model, sorted. */
    public static List<String> names() {
        return List.copyOf(MODELS.keySet());
    }

    /** Whether {@code path} names a built-in model ({@code builtin:NAME}) rather than a file. */
    public static boolean isBuiltin(Path path) {
        return path != null && path.getNameCount() == 1 && path.toString().startsWith(PREFIX);
    }

    /** The classpath resource of a built-in model, e.g. {@code /org/diffrep/models/unet-mnist.safetensors}. */
    public static String resource(String name) {
        String file = MODELS.get(name);
        if (file == null) {
            throw InvalidInputException.field("model", PREFIX + name + ": no built-in model named '" + name
                    + "'; available: " + String.join(", ", names().stream().map(n -> PREFIX + n).toList()));
        }
        return ROOT + file;
    }

    /**
     * The file to read for {@code path}: the path itself, or for {@code builtin:NAME} the temporary copy of that
     * model's resource.
     *
     * @throws InvalidInputException for an unknown built-in name, listing the known ones
     */
    public static Path resolve(Path path) {
        if (!isBuiltin(path)) {
            return path;
        }
        String name = path.toString().substring(PREFIX.length());
        String resource = resource(name);
        return COPIES.computeIfAbsent(name, n -> copy(n, resource));
    }

    private static Path copy(String name, String resource) {
        try (InputStream in = BuiltinModels.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("classpath resource " + resource + " is missing: this build of diffrep is "
                        + "incomplete (rebuild it with mvn package)");
            }
            Path dir = Files.createTempDirectory("diffrep-builtin-");
            Path file = dir.resolve(name + ".safetensors");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            dir.toFile().deleteOnExit(); // deleted after the file: deleteOnExit runs in reverse order
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the built-in model " + resource + " to a temporary file", e);
        }
    }
}
