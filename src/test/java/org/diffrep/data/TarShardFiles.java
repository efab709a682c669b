package org.diffrep.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.bytedeco.javacpp.PointerScope;
import org.diffrep.ops.Tensors;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Test shards and folders made of real built-in MNIST digits, written as lossless PNG. */
public final class TarShardFiles {

    private TarShardFiles() {
    }

    /** The first n built-in digits as uint8 pixels [n][784] and their labels. */
    public record Digits(byte[][] pixels, int[] labels) {
    }

    public static Digits digits(int n) {
        Dataset d = DataSpec.open("builtin:mnist");
        long[] idx = new long[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        byte[][] px = new byte[n][784];
        try (PointerScope scope = new PointerScope()) {
            float[] x = Tensors.toFloats(d.batch(idx).images());
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < 784; p++) {
                    px[i][p] = (byte) Math.round((x[i * 784 + p] + 1f) * 127.5f);
                }
            }
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = d.label(i);
        }
        return new Digits(px, labels);
    }

    /** One 28 x 28 digit as an RGB PNG (r = g = b, so luma gives the grey level back exactly). */
    public static byte[] png(byte[] pixels) throws IOException {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                int v = pixels[y * 28 + x] & 0xFF;
                img.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", out)) {
            throw new IOException("no PNG writer");
        }
        return out.toByteArray();
    }

    /** Writes the members (name -> bytes, in order) as a tar, gzip-compressed when the name ends in .gz. */
    public static Path tar(Path file, Map<String, byte[]> members) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream os = file.toString().endsWith(".gz") ? new GzipCompressorOutputStream(raw) : raw;
             TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(m.getKey());
                e.setSize(m.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(m.getValue());
                tar.closeArchiveEntry();
            }
        }
        return file;
    }

    public static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Three shards of digits 0..49 in {@code dir}: train-000.tar (0..19, .cls), train-001.tar.gz (20..34, .json,
     * label before image) and train-002.tar (35..49, in a subfolder, .cls and .json alternating, with an ignored
     * .txt member). Keys run backwards so archive order is not name order.
     */
    public static Digits shards(Path dir) throws IOException {
        Digits d = digits(50);
        Map<String, byte[]> a = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            String key = "s" + (999 - i);
            a.put(key + ".png", png(d.pixels()[i]));
            a.put(key + ".cls", text(d.labels()[i] + "\n"));
        }
        Map<String, byte[]> b = new LinkedHashMap<>();
        for (int i = 20; i < 35; i++) {
            String key = "s" + (999 - i);
            b.put(key + ".json", text("{\"label\": " + d.labels()[i] + ", \"source\": \"mnist\"}"));
            b.put(key + ".png", png(d.pixels()[i]));
        }
        Map<String, byte[]> c = new LinkedHashMap<>();
        for (int i = 35; i < 50; i++) {
            String key = "sub.dir/s" + (999 - i);
            c.put(key + ".png", png(d.pixels()[i]));
            c.put(key + ".txt", text("ignored"));
            c.put(key + (i % 2 == 0 ? ".cls" : ".json"), text(i % 2 == 0 ? " " + d.labels()[i] : "{\"label\":" + d.labels()[i] + "}"));
        }
        tar(dir.resolve("train-002.tar"), c);
        tar(dir.resolve("train-000.tar"), a);
        tar(dir.resolve("train-001.tar.gz"), b);
        return d;
    }
}
