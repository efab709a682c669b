package org.diffrep.data;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FolderReaderTest {

    @TempDir
    Path dir;

    /** A solid w x h image of one colour, written as PNG or JPEG. */
    private void png(Path file, int w, int h, int rgb, String format) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, format, file.toFile()));
    }

    @Test
    void classesFromSubfoldersResizedAndCropped() throws IOException {
        png(dir.resolve("cat/a.png"), 40, 40, 0xFF0000, "png");
        png(dir.resolve("cat/b.PNG"), 64, 16, 0x00FF00, "png");
        png(dir.resolve("dog/c.jpg"), 20, 30, 0x808080, "jpg");
        Files.writeString(dir.resolve("dog/notes.txt"), "ignored", StandardCharsets.UTF_8);
        Files.createDirectories(dir.resolve("ant"));
        png(dir.resolve("ant/z.jpeg"), 8, 8, 0x0000FF, "jpg");

        Dataset d = DataSpec.open("folder:" + dir + ",size=8,channels=3");
        assertEquals(List.of("ant", "cat", "dog"), d.classNames());
        assertEquals(4, d.size());
        assertArrayEquals(new int[]{3, 8, 8}, d.imageShape());
        assertArrayEquals(new int[]{0, 1, 1, 2}, d.labels());
        try (PointerScope scope = new PointerScope()) {
            float[] x = Tensors.toFloats(d.batch(new long[]{1, 2}).images());
            // Solid red PNG, 40x40 scaled to 8x8: exactly red.
            assertEquals(1f, x[0], 1e-6f);
            assertEquals(-1f, x[64 + 10], 1e-6f);
            assertEquals(-1f, x[128 + 63], 1e-6f);
            // Solid green 64x16 -> 32x8 -> centre 8x8: green plane only.
            assertEquals(1f, x[192 + 64 + 36], 1e-6f);
            assertEquals(-1f, x[192 + 5], 1e-6f);
        }
        Dataset grey = DataSpec.open("folder:" + dir + ",size=4,channels=1");
        assertArrayEquals(new int[]{1, 4, 4}, grey.imageShape());
        try (PointerScope scope = new PointerScope()) {
            float[] x = Tensors.toFloats(grey.batch(new long[]{1}).images());
            assertEquals(Math.round(0.299 * 255) / 127.5f - 1f, x[5], 1e-6f);
        }
        // Defaults: 32x32 RGB.
        assertArrayEquals(new int[]{3, 32, 32}, DataSpec.open("folder:" + dir).imageShape());
    }

    @Test
    void wideImagesKeepTheirCentre() throws IOException {
        BufferedImage img = new BufferedImage(24, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 24; x++) {
                img.setRGB(x, y, x < 8 ? 0xFF0000 : x < 16 ? 0x00FF00 : 0x0000FF);
            }
        }
        Files.createDirectories(dir.resolve("only"));
        ImageIO.write(img, "png", dir.resolve("only/wide.png").toFile());
        Dataset d = DataSpec.open("folder:" + dir + ",size=8");
        try (PointerScope scope = new PointerScope()) {
            float[] x = Tensors.toFloats(d.batch(new long[]{0}).images());
            for (int p = 0; p < 64; p++) {
                assertEquals(-1f, x[p], 1e-6f);
                assertEquals(1f, x[64 + p], 1e-6f);
                assertEquals(-1f, x[128 + p], 1e-6f);
            }
        }
    }

    @Test
    void emptyAndBadFoldersGiveOneClearError() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertError("folder:" + empty, "empty", "expected one subfolder per class");
        Path noImages = dir.resolve("noimages");
        Files.createDirectories(noImages.resolve("a"));
        Files.writeString(noImages.resolve("a/readme.txt"), "x");
        assertError("folder:" + noImages, "noimages/a", "class folder with no images");
        Path badImage = dir.resolve("bad");
        Files.createDirectories(badImage.resolve("a"));
        Files.writeString(badImage.resolve("a/broken.png"), "not a png");
        assertError("folder:" + badImage, "broken.png", "not a readable PNG or JPEG");
        assertError("folder:" + dir.resolve("absent"), "absent", "no such directory");
        assertError("folder:" + empty + ",channels=2", "channels", "1 or 3");
        assertError("folder:" + empty + ",size=big", "size", "integer");
    }

    private static void assertError(String spec, String fragment1, String fragment2) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DataSpec.open(spec));
        assertTrue(e.getMessage().contains(fragment1) && e.getMessage().contains(fragment2), e.getMessage());
    }
}
