package org.diffrep.data;

/**
 * PNG and JPEG images held in memory (a DataFrame's binary column) decoded as {@code folder:} and {@code tar:}
 * decode files ({@link ImageDecoding}): shorter side scaled to the size, centre square, grey or planar RGB.
 */
public final class EncodedImages {

    private EncodedImages() {
    }

    /**
     * Decodes {@code encoded} into {@code out[offset ..]} as channels x size x size bytes.
     *
     * @param name names the image in error messages
     * @throws org.diffrep.InvalidInputException naming {@code name} for an unreadable or too large image
     */
    public static void decodeInto(byte[] encoded, String name, int size, int channels, byte[] out, int offset) {
        ImageDecoding.checkOptions(size, channels, name);
        ImageDecoding.decodeInto(ImageDecoding.of(encoded), name, size, channels, out, offset);
    }
}
