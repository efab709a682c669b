package org.diffrep.report;

import org.diffrep.InvalidInputException;
import org.diffrep.io.AtomicFiles;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * A PNG grid of images: one list of images per row (rows may differ in length), each image float
 * [C, H, W] in [-1, 1] (C = 1 grey, C = 3 RGB), separated by a pad of mid grey.
 */
public final class Montage {

    private static final int PAD = 2;
    private static final int BACKGROUND = 0x808080;

    private Montage() {
    }

    /** Writes the grid to {@code png} (temp file, then rename). {@code scale} enlarges each pixel. */
    public static void write(Path png, List<List<float[]>> rows, int[] imageShape, int scale) {
        int c = imageShape[0], h = imageShape[1], w = imageShape[2];
        if (c != 1 && c != 3) {
            throw new InvalidInputException("montage: images must have 1 or 3 channels, got " + c);
        }
        int cols = 0;
        for (List<float[]> r : rows) {
            cols = Math.max(cols, r.size());
        }
        if (rows.isEmpty() || cols == 0) {
            throw new InvalidInputException("montage: no images to draw");
        }
        int cw = w * scale + PAD, ch = h * scale + PAD;
        BufferedImage img = new BufferedImage(cols * cw + PAD, rows.size() * ch + PAD, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, BACKGROUND);
            }
        }
        for (int r = 0; r < rows.size(); r++) {
            for (int k = 0; k < rows.get(r).size(); k++) {
                float[] im = rows.get(r).get(k);
                if (im.length != c * h * w) {
                    throw new InvalidInputException("montage: image of " + im.length + " values, expected " + c * h * w);
                }
                for (int y = 0; y < h * scale; y++) {
                    for (int x = 0; x < w * scale; x++) {
                        int p = (y / scale) * w + x / scale;
                        int red = level(im[p]);
                        int rgb = c == 1 ? red * 0x10101 : (red << 16) | (level(im[h * w + p]) << 8) | level(im[2 * h * w + p]);
                        img.setRGB(PAD + k * cw + x, PAD + r * ch + y, rgb);
                    }
                }
            }
        }
        AtomicFiles.write(png, out -> ImageIO.write(img, "png", out));
    }

    private static int level(float v) {
        float u = (v + 1f) * 127.5f;
        return Math.max(0, Math.min(255, Math.round(Float.isNaN(u) ? 0 : u)));
    }
}
