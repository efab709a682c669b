package org.diffrep.analysis;

import org.diffrep.data.BuiltinFiles;

/** The first digits of the built-in MNIST (builtin:mnist), as pixels / 255 and labels (tests only). */
record MnistPixels(float[] pixels, long[] labels, int count) {

    static final int D = 784;

    static MnistPixels load(int count) {
        float[] px = new float[count * D];
        long[] labels = new long[count];
        byte[] images = BuiltinFiles.mnistImagesIdx();
        byte[] labelBytes = BuiltinFiles.mnistLabelsIdx();
        for (int i = 0; i < count * D; i++) {
            px[i] = (images[16 + i] & 0xff) / 255f;
        }
        for (int i = 0; i < count; i++) {
            labels[i] = labelBytes[8 + i] & 0xff;
        }
        return new MnistPixels(px, labels, count);
    }
}
