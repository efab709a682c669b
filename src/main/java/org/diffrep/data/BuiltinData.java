package org.diffrep.data;

import org.diffrep.InvalidInputException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Data shipped inside the jar, the data spec {@code builtin:NAME}. It exists so that the demo, the tests and a
 * first run need no download and no file next to the project: {@code builtin:mnist} is 10,000 real MNIST digits
 * (docs/DATA.md says where they come from). The files are ordinary IDX files on the classpath, read by
 * {@link IdxReader} straight from the jar, never extracted to disk.
 */
public final class BuiltinData {

    /** Classpath folder of the built-in sets, one subfolder per name. */
    public static final String ROOT = "/org/diffrep/data/builtin/";

    /** Each built-in set's images and labels files (in its folder under {@link #ROOT}). */
    private static final Map<String, List<String>> SETS = new TreeMap<>(Map.of(
            "mnist", List.of("mnist10k-images-idx3-ubyte.gz", "mnist10k-labels-idx1-ubyte.gz")));

    private BuiltinData() {
    }

    /** The names {@code builtin:} accepts, sorted. */
    public static List<String> names() {
        return List.copyOf(SETS.keySet());
    }

    /**
     * The files of a built-in set: {images, labels}, file names within its classpath folder.
     *
     * @throws InvalidInputException for an unknown name, listing the known ones
     */
    public static List<String> files(String name) {
        List<String> files = SETS.get(name);
        if (files == null) {
            throw new InvalidInputException("builtin:" + name + ": no built-in data set named '" + name
                    + "'; available: " + String.join(", ", names().stream().map(n -> "builtin:" + n).toList()));
        }
        return files;
    }

    /** The classpath resource of one file of a built-in set, e.g. {@code /org/diffrep/data/builtin/mnist/...gz}. */
    public static String resource(String name, String file) {
        return ROOT + name + "/" + file;
    }

    /** The bytes of one file of a built-in set, as stored (gzip-compressed). */
    public static byte[] bytes(String name, String file) {
        String path = resource(name, file);
        try (InputStream in = BuiltinData.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("classpath resource " + path + " is missing: this build of diffrep is "
                        + "incomplete (rebuild it with mvn package)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read classpath resource " + path, e);
        }
    }

    /**
     * Reads a built-in set.
     *
     * @param source the spec text the dataset is named by
     * @throws InvalidInputException for an unknown name, listing the known ones
     */
    public static InMemoryDataset open(String name, String source) {
        List<String> files = files(name);
        return IdxReader.read(bytes(name, files.get(0)), "builtin:" + name + "/" + files.get(0),
                bytes(name, files.get(1)), "builtin:" + name + "/" + files.get(1), source);
    }
}
