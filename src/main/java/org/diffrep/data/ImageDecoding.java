package org.diffrep.data;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;

/**
 * Decoding of PNG and JPEG images into uint8 samples, shared by {@code folder:} and {@code tar:}: javax.imageio
 * decodes, the shorter side is scaled to {@code size} (bilinear) and the centre size x size square kept, as grey
 * (1 channel, ITU-R 601 luma) or RGB (3 channels, planar). The header is read first and an image declaring more than
 * {@link #MAX_PIXELS} pixels is refused before it is decoded.
 */
final class ImageDecoding {

    /** The largest size=S. */
    static final int MAX_SIZE = 4096;
    /** The most pixels an image may declare before it is decoded. */
    static final long MAX_PIXELS = 1L << 26;

    /** Opens a fresh image stream on the encoded image. */
    interface Source {
        ImageInputStream open() throws IOException;
    }

    private ImageDecoding() {
    }

    static Source of(Path file) {
        return () -> ImageIO.createImageInputStream(file.toFile());
    }

    static Source of(byte[] encoded) {
        return () -> ImageIO.createImageInputStream(new ByteArrayInputStream(encoded));
    }

    /** Checks size=S and channels=C. */
    static void checkOptions(int size, int channels, String source) {
        if (size < 1 || size > MAX_SIZE || (channels != 1 && channels != 3)) {
            throw new InvalidInputException(source + ": expected size in 1.." + MAX_SIZE + " and channels 1 or 3, got size="
                    + size + ", channels=" + channels);
        }
    }

    /** True for names ending in .png, .jpg or .jpeg (any case). */
    static boolean isImageName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    /**
     * Reads only the header: refuses an image no reader recognises or one declaring more than {@link #MAX_PIXELS}.
     *
     * @param name the file (or {@code shard!member}) for messages
     */
    static void checkHeader(Source src, String name) {
        try {
            if (!checkDimensions(src, name)) {
                throw new InvalidInputException(name + ": not a readable PNG or JPEG image");
            }
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot decode image (" + e.getMessage() + "); expected a PNG or JPEG", e);
        }
    }

    /**
     * Decodes one image into {@code out[offset ..]} as channels x size x size bytes.
     *
     * @throws InvalidInputException naming {@code name} for an unreadable image or one too large
     */
    static void decodeInto(Source src, String name, int size, int channels, byte[] out, int offset) {
        BufferedImage img;
        try {
            checkDimensions(src, name);
            ImageInputStream in = src.open();
            img = in == null ? null : ImageIO.read(in); // closes the stream, unless no reader knows the format
            if (img == null && in != null) {
                in.close();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidInputException iie) {
                throw iie;
            }
            throw new InvalidInputException(name + ": cannot decode image (" + e.getMessage() + "); expected a PNG or JPEG", e);
        }
        if (img == null) {
            throw new InvalidInputException(name + ": not a readable PNG or JPEG image");
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
     *
     * @return false when no image reader recognises the data
     */
    private static boolean checkDimensions(Source src, String name) throws IOException {
        try (ImageInputStream in = src.open()) {
            if (in == null) {
                return false;
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return false;
            }
            ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                long w = r.getWidth(0);
                long h = r.getHeight(0);
                if (w * h > MAX_PIXELS) {
                    throw new InvalidInputException(name + ": field size is " + w + " x " + h
                            + " pixels; expected at most " + MAX_PIXELS + " pixels (e.g. 8192 x 8192): scale it down");
                }
            } finally {
                r.dispose();
            }
        }
        return true;
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

    /**
     * The batch of decoded uint8 samples, scaled from [0, 255] to [-1, 1] as {@link InMemoryDataset} does.
     *
     * @param pixels n samples of C*H*W bytes, in batch order
     */
    static Batch toBatch(byte[] pixels, int[] shape, int[] labels, long[] indices) {
        int n = indices.length;
        float[] out = new float[pixels.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = (pixels[k] & 0xFF) / 127.5f - 1f;
        }
        long[] lab = new long[n];
        for (int b = 0; b < n; b++) {
            lab[b] = labels[(int) indices[b]];
        }
        Tensor images = Tensors.fromFloats(out, n, shape[0], shape[1], shape[2]);
        return new Batch(images, Tensors.fromLongs(lab, n), indices.clone());
    }
}
