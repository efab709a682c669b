package org.diffrep.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.bytedeco.javacpp.PointerScope;
import org.diffrep.Choice;
import org.diffrep.InvalidInputException;
import org.diffrep.io.AtomicFiles;
import org.diffrep.ops.Tensors;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Writes a dataset as WebDataset-style tar shards that {@code tar:} ({@link TarShards}) reads back: shard
 * {@code PREFIX-000000.tar} holds samples 0 .. shardSize-1 in order, each as {@code KEY.png} (or {@code .jpg}) and
 * {@code KEY.cls} (the class index as text), with KEY the sample's index zero-padded to nine digits, so name order,
 * archive order and the source's order agree. PNG is lossless: packing an 8-bit source and reading the shards with the
 * same size and channels gives the same pixels, labels and features. Each shard appears whole or not at all
 * ({@link AtomicFiles}); images are encoded on {@code encodeThreads} threads.
 */
public final class ShardPacker {

    /** How images are encoded: lossless PNG (the default) or JPEG at {@link Config#jpegQuality}. */
    public enum Format implements Choice {
        PNG("png"), JPEG("jpg");

        private final String id;

        Format(String id) {
            this.id = id;
        }

        @Override
        public String id() {
            return id;
        }
    }

    /**
     * What to write.
     *
     * @param out         directory of the shards (created; must be empty or absent)
     * @param shardSize   samples per shard (default 1000; WebDataset's guidance is shards of 100 MB to 1 GB)
     * @param format      png (lossless, the default) or jpg
     * @param jpegQuality JPEG quality in (0, 1] (default 0.95)
     * @param prefix      shard name prefix (default "shard")
     * @param limit       at most this many samples, the first ones (0: all)
     * @param encodeThreads encoding threads (default 2)
     */
    public record Config(Path out, int shardSize, Format format, float jpegQuality, String prefix, long limit, int encodeThreads) {

        public static final Config DEFAULTS = new Builder().make();

        public static Builder builder() {
            return new Builder();
        }

        /** The fields with their defaults; every setter returns the builder. */
        public static final class Builder {
            private Path out;
            private int shardSize = 1000;
            private Format format = Format.PNG;
            private float jpegQuality = 0.95f;
            private String prefix = "shard";
            private long limit = 0;
            private int encodeThreads = 2;

            public Builder out(Path v) { out = v; return this; }
            public Builder shardSize(int v) { shardSize = v; return this; }
            public Builder format(Format v) { format = v; return this; }
            public Builder jpegQuality(float v) { jpegQuality = v; return this; }
            public Builder prefix(String v) { prefix = v; return this; }
            public Builder limit(long v) { limit = v; return this; }
            public Builder encodeThreads(int v) { encodeThreads = v; return this; }

            public Config build() {
                require(out != null, "out", "is required");
                require(shardSize >= 1, "shardSize", "must be >= 1, got " + shardSize);
                require(jpegQuality > 0 && jpegQuality <= 1, "jpegQuality", "must be in (0, 1], got " + jpegQuality);
                require(prefix != null && prefix.matches("[A-Za-z0-9_.-]+"), "prefix",
                        ": expected letters, digits, '_', '-' or '.', got " + InvalidInputException.literal(prefix));
                require(limit >= 0, "limit", "must be >= 0, got " + limit);
                require(encodeThreads >= 1 && encodeThreads <= 256, "encodeThreads", "must be in 1..256, got " + encodeThreads);
                return make();
            }

            private Config make() {
                return new Config(out, shardSize, format, jpegQuality, prefix, limit, encodeThreads);
            }

            private static void require(boolean ok, String field, String detail) {
                if (!ok) {
                    throw InvalidInputException.field(field, detail);
                }
            }
        }
    }

    /** What was written. */
    public record Summary(Path out, long samples, int shards, long bytes, double seconds) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "pack: %d samples in %d shards in %s (%.1f MiB, %.1f s, %.0f samples/s); read them with tar:%s",
                    samples, shards, out, bytes / 1048576.0, seconds, samples / Math.max(seconds, 1e-9), out);
        }
    }

    /** Samples decoded per step while a shard is encoded: bounds memory independently of the shard size. */
    private static final int STEP = 256;

    private ShardPacker() {
    }

    /**
     * Writes {@code data}'s samples (the first {@code limit}) as shards in {@code cfg.out()}.
     *
     * @param log progress lines, one per shard (null for none)
     * @throws InvalidInputException for an output directory that is not empty, a sample that is not 8-bit pixel data
     *                               (a float source), or a channel count other than 1 or 3
     */
    public static Summary pack(Dataset data, Config cfg, PrintStream log) {
        long start = System.nanoTime();
        int[] shape = data.imageShape();
        if (shape[0] != 1 && shape[0] != 3) {
            throw InvalidInputException.field("data", InvalidInputException.literal(data.source()) + ": has " + shape[0]
                    + " channels; images in shards need 1 (grey) or 3 (RGB)");
        }
        checkEmpty(cfg.out());
        long n = cfg.limit() == 0 ? data.size() : Math.min(cfg.limit(), data.size());
        int shards = (int) ((n + cfg.shardSize() - 1) / cfg.shardSize());
        long bytes = 0;
        ForkJoinPool pool = new ForkJoinPool(cfg.encodeThreads());
        try {
            for (int s = 0; s < shards; s++) {
                long from = (long) s * cfg.shardSize();
                long to = Math.min(n, from + cfg.shardSize());
                Path file = cfg.out().resolve(String.format(Locale.ROOT, "%s-%06d.tar", cfg.prefix(), s));
                AtomicFiles.write(file, os -> writeShard(data, cfg, from, to, pool, os));
                bytes += Files.size(file);
                if (log != null) {
                    log.printf(Locale.ROOT, "pack: %s written (%d/%d shards, %d samples)%n", file.getFileName(), s + 1,
                            shards, to);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write shards in " + cfg.out() + ": " + e.getMessage(), e);
        } finally {
            pool.shutdownNow();
        }
        return new Summary(cfg.out(), n, shards, bytes, (System.nanoTime() - start) / 1e9);
    }

    private static void checkEmpty(Path out) {
        if (Files.exists(out)) {
            if (!Files.isDirectory(out)) {
                throw InvalidInputException.field("out", out + ": exists and is not a directory");
            }
            try (Stream<Path> s = Files.list(out)) {
                Iterator<Path> it = s.iterator();
                if (it.hasNext()) {
                    throw InvalidInputException.field("out", out + ": is not empty (holds " + it.next().getFileName()
                            + "); shards go into a new or empty directory");
                }
            } catch (IOException e) {
                throw InvalidInputException.field("out", out + ": cannot list: " + e.getMessage());
            }
        }
    }

    private static void writeShard(Dataset data, Config cfg, long from, long to, ForkJoinPool pool, java.io.OutputStream os)
            throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(os);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        String ext = cfg.format() == Format.PNG ? ".png" : ".jpg";
        for (long a = from; a < to; a += STEP) {
            long b = Math.min(to, a + STEP);
            byte[][] encoded = encodeRange(data, cfg, a, b, pool);
            for (int k = 0; k < encoded.length; k++) {
                long i = a + k;
                String key = String.format(Locale.ROOT, "%09d", i);
                put(tar, key + ext, encoded[k]);
                put(tar, key + ".cls", (data.label((int) i) + "\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
        tar.finish();
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] bytes) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(bytes.length);
        tar.putArchiveEntry(e);
        tar.write(bytes);
        tar.closeArchiveEntry();
    }

    /** Decodes samples [a, b) and encodes each as an image, in parallel. */
    private static byte[][] encodeRange(Dataset data, Config cfg, long a, long b, ForkJoinPool pool) throws IOException {
        int n = (int) (b - a);
        long[] idx = new long[n];
        for (int k = 0; k < n; k++) {
            idx[k] = a + k;
        }
        float[] x;
        try (PointerScope scope = new PointerScope()) {
            x = Tensors.toFloats(data.batch(idx).images());
        }
        int[] shape = data.imageShape();
        int per = shape[0] * shape[1] * shape[2];
        try {
            return pool.submit(() -> IntStream.range(0, n).parallel().mapToObj(k -> {
                byte[] px = toPixels(x, k * per, per, data.source(), a + k);
                return encode(px, shape, cfg);
            }).toArray(byte[][]::new)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getCause());
        }
    }

    /** Back from [-1, 1] to the 8-bit values, refusing values that are not on that grid (float sources). */
    private static byte[] toPixels(float[] x, int offset, int count, String source, long sample) {
        byte[] px = new byte[count];
        for (int p = 0; p < count; p++) {
            float v = x[offset + p];
            int q = Math.round((v + 1f) * 127.5f);
            if (!(q >= 0 && q <= 255 && Math.abs(q / 127.5f - 1f - v) <= 1e-5f)) {
                throw InvalidInputException.field("data", InvalidInputException.literal(source) + ": sample " + sample
                        + " holds " + v + ", not an 8-bit pixel value; shards hold images, so pack needs a pixel source"
                        + " (builtin, idx, cifar, folder, tar or uint8 npy)");
            }
            px[p] = (byte) q;
        }
        return px;
    }

    private static byte[] encode(byte[] px, int[] shape, Config cfg) {
        int c = shape[0], h = shape[1], w = shape[2];
        BufferedImage img;
        if (c == 1) {
            img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setDataElements(0, 0, w, h, px);
        } else {
            img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            int plane = h * w;
            int[] rgb = new int[plane];
            for (int p = 0; p < plane; p++) {
                rgb[p] = (px[p] & 0xFF) << 16 | (px[plane + p] & 0xFF) << 8 | (px[2 * plane + p] & 0xFF);
            }
            img.setRGB(0, 0, w, h, rgb, 0, w);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (cfg.format() == Format.PNG) {
                ImageIO.write(img, "png", out);
            } else {
                ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
                try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                    writer.setOutput(ios);
                    ImageWriteParam param = writer.getDefaultWriteParam();
                    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                    param.setCompressionQuality(cfg.jpegQuality());
                    writer.write(null, new IIOImage(img, null, null), param);
                } finally {
                    writer.dispose();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
