package org.diffrep.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test helper: the built-in MNIST files as files on disk, for the tests of readers that take paths (idx:DIR,
 * npy:, ...). Everything else reads {@code builtin:mnist} directly.
 */
public final class BuiltinFiles {

    private BuiltinFiles() {
    }

    /** Copies the built-in MNIST images and labels (gzip-compressed IDX, as stored) into {@code dir}; returns {@code dir}. */
    public static Path copyMnist(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : BuiltinData.files("mnist")) {
            Files.write(dir.resolve(f), BuiltinData.bytes("mnist", f));
        }
        return dir;
    }

    /** The built-in MNIST images file, gunzipped: the raw IDX bytes (16-byte header, then 784 bytes per digit). */
    public static byte[] mnistImagesIdx() {
        return IdxReader.gunzipIfGzip(BuiltinData.bytes("mnist", BuiltinData.files("mnist").get(0)), "images");
    }

    /** The built-in MNIST labels file, gunzipped: the raw IDX bytes (8-byte header, then one byte per digit). */
    public static byte[] mnistLabelsIdx() {
        return IdxReader.gunzipIfGzip(BuiltinData.bytes("mnist", BuiltinData.files("mnist").get(1)), "labels");
    }
}
