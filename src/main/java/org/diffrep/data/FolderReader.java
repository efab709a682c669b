package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * An image folder with one subfolder per class (class names are the subfolder names, sorted). PNG and JPEG files
 * are decoded with javax.imageio, scaled so the shorter side is {@code size} (bilinear) and centre-cropped to
 * size x size, as grey (1 channel, ITU-R 601 luma) or RGB (3 channels).
 */
public final class FolderReader {

    /** The largest --data folder:DIR,size=S. */
    static final int MAX_SIZE = 4096;
    /** The most pixels an image may declare before it is decoded. */
    static final long MAX_PIXELS = 1L << 26;

    private FolderReader() {
    }

    /**
     * Reads every image under {@code dir/<class>/}.
     *
     * @throws InvalidInputException for a missing or empty folder, a class folder without images, or an unreadable image
     */
    public static InMemoryDataset read(Path dir, int size, int channels, String source) {
        if (size < 1 || size > MAX_SIZE || (channels != 1 && channels != 3)) {
            throw new InvalidInputException(source + ": expected size in 1.." + MAX_SIZE + " and channels 1 or 3, got size="
                    + size + ", channels=" + channels);
        }
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir + ": no such directory (folder:DIR expects one subfolder per class)");
        }
        List<Path> classDirs = list(dir).stream().filter(Files::isDirectory).sorted().toList();
        if (classDirs.isEmpty()) {
            throw new InvalidInputException(dir + ": empty: expected one subfolder per class holding .png/.jpg images");
        }
        List<String> names = new ArrayList<>();
        List<List<Path>> files = new ArrayList<>();
        long total = 0;
        for (Path c : classDirs) {
            List<Path> images = list(c).stream().filter(p -> Files.isRegularFile(p) && isImage(p)).sorted().toList();
            if (images.isEmpty()) {
                throw new InvalidInputException(c + ": class folder with no images; expected .png, .jpg or .jpeg files");
            }
            names.add(c.getFileName().toString());
            files.add(images);
            total += images.size();
        }
        int per = channels * size * size;
        byte[] pixels = new byte[Limits.inMemory(total * per, 1, dir.toString(), total + " images of " + per + " bytes")];
        int[] labels = new int[(int) total];
        int i = 0;
        for (int k = 0; k < files.size(); k++) {
            for (Path f : files.get(k)) {
                decodeInto(f, size, channels, pixels, i * per);
                labels[i++] = k;
            }
        }
        return InMemoryDataset.ofPixels(source, new int[]{channels, size, size}, pixels, labels, names, null);
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new InvalidInputException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static void decodeInto(Path file, int size, int channels, byte[] out, int offset) {
        BufferedImage img;
        try {
            checkDimensions(file);
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot decode image (" + e.getMessage() + "); expected a PNG or JPEG", e);
        }
        if (img == null) {
            throw new InvalidInputException(file + ": not a readable PNG or JPEG image");
        }
        BufferedImage square = scaleAndCrop(img, size);
        int plane = size * size;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = square.getRGB(x, y);
                int r = (rgb >> 16) & 0xFF;
                int g = (rgb >> 8) & 0xFF;
                int b = rgb & 0xFF;
                int p = y * size + x;
                if (channels == 1) {
                    out[offset + p] = (byte) Math.round(0.299 * r + 0.587 * g + 0.114 * b);
                } else {
                    out[offset + p] = (byte) r;
                    out[offset + plane + p] = (byte) g;
                    out[offset + 2 * plane + p] = (byte) b;
                }
            }
        }
    }

    /**
     * Reads the width and height from the image's header and refuses more than {@link #MAX_PIXELS} pixels before
     * the image is decoded: a small PNG can declare a huge canvas (a decompression bomb).
     */
    private static void checkDimensions(Path file) throws IOException {
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                return;
            }
            java.util.Iterator<javax.imageio.ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return;
            }
            javax.imageio.ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                long w = r.getWidth(0);
                long h = r.getHeight(0);
                if (w * h > MAX_PIXELS) {
                    throw new InvalidInputException(file + ": field size is " + w + " x " + h
                            + " pixels; expected at most " + MAX_PIXELS + " pixels (e.g. 8192 x 8192): scale it down");
                }
            } finally {
                r.dispose();
            }
        }
    }

    /** Scales so the shorter side is {@code size}, then takes the centred size x size square. */
    static BufferedImage scaleAndCrop(BufferedImage img, int size) {
        int w = img.getWidth();
        int h = img.getHeight();
        double scale = (double) size / Math.min(w, h);
        int sw = Math.max(size, (int) Math.round(w * scale));
        int sh = Math.max(size, (int) Math.round(h * scale));
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(img, -(sw - size) / 2, -(sh - size) / 2, sw, sh, null);
        } finally {
            g.dispose();
        }
        return out;
    }
}
