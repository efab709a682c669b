package org.diffrep.analysis;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** The real MNIST 10k digits of the shared data folder, as pixels / 255 and labels (tests only). */
record MnistPixels(float[] pixels, long[] labels, int count) {

    static final Path DIR = Path.of("../shared/data/mnist");
    static final int D = 784;

    static MnistPixels load(int count) throws IOException {
        float[] px = new float[count * D];
        long[] labels = new long[count];
        try (DataInputStream in = open("mnist10k-images-idx3-ubyte.gz")) {
            in.skipNBytes(16);
            byte[] raw = new byte[count * D];
            in.readFully(raw);
            for (int i = 0; i < raw.length; i++) {
                px[i] = (raw[i] & 0xff) / 255f;
            }
        }
        try (DataInputStream in = open("mnist10k-labels-idx1-ubyte.gz")) {
            in.skipNBytes(8);
            for (int i = 0; i < count; i++) {
                labels[i] = in.readUnsignedByte();
            }
        }
        return new MnistPixels(px, labels, count);
    }

    private static DataInputStream open(String name) throws IOException {
        InputStream raw = Files.newInputStream(DIR.resolve(name));
        return new DataInputStream(new GZIPInputStream(raw, 1 << 16));
    }
}
