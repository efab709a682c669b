package org.diffrep.data;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.io.Npy;
import org.diffrep.ops.Tensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples of a uint8 or float32 .npy file read through memory maps: nothing is copied up front, the
 * operating system pages in what batches touch, so resident memory does not grow with N and files
 * beyond one Java array (2 GiB) work. The file is mapped in chunks of whole samples (one map holds
 * at most 2 GiB). Channels-last files [N, H, W, C] are transposed to [C, H, W] per sample in
 * {@link #batch}; uint8 is scaled to [-1, 1] as {@link InMemoryDataset} does, so both give the same
 * batches. Labels are small and held in memory. Safe to batch from several threads (absolute reads).
 */
public final class MappedNpyDataset extends LabelledDataset {

    /** Samples of at most this many bytes go into one mapped chunk. */
    static final long CHUNK_BYTES = 1L << 30;

    private final boolean channelsLast;
    private final boolean pixels;
    private final int samplesPerChunk;
    private final List<ByteBuffer> byteChunks = new ArrayList<>();
    private final List<FloatBuffer> floatChunks = new ArrayList<>();

    /**
     * @param header       X's header (uint8 or float32; checked by the caller)
     * @param shape        one sample as {C, H, W}
     * @param channelsLast X is [N, H, W, C]
     */
    MappedNpyDataset(Path xFile, Npy.Header header, int[] shape, boolean channelsLast, int[] labels,
                     List<String> classNames, String source) {
        this(xFile, header, shape, channelsLast, labels, classNames, source, CHUNK_BYTES);
    }

    /** As above, with chunks of at most {@code chunkBytes} (tests use small chunks). */
    MappedNpyDataset(Path xFile, Npy.Header header, int[] shape, boolean channelsLast, int[] labels,
                     List<String> classNames, String source, long chunkBytes) {
        super(source, shape, labels, classNames);
        this.channelsLast = channelsLast;
        this.pixels = header.dtype() == Npy.DType.UINT8;
        long n = labels.length;
        long sampleBytes = (long) sampleSize() * header.dtype().size();
        this.samplesPerChunk = (int) Math.max(1, Math.min(Math.max(n, 1), chunkBytes / sampleBytes));
        try (FileChannel ch = FileChannel.open(xFile, StandardOpenOption.READ)) {
            Npy.requireDataLength(header, ch.size(), xFile);
            ByteOrder order = header.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            for (long first = 0; first < n; first += samplesPerChunk) {
                long count = Math.min(samplesPerChunk, n - first);
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, header.dataOffset() + first * sampleBytes,
                        count * sampleBytes);
                map.order(order);
                byteChunks.add(map);
                floatChunks.add(pixels ? null : map.asFloatBuffer());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + xFile + ": " + e.getMessage(), e);
        }
    }








    @Override
    public Batch batch(long[] indices) {
        int per = sampleSize();
        int n = indices.length;
        checkBatch(n);
        float[] out = new float[n * per];
        float[] sample = new float[per];
        byte[] raw = pixels ? new byte[per] : null;
        long[] lab = new long[n];
        for (int b = 0; b < n; b++) {
            int idx = checkIndex(indices[b]);
            int chunk = (int) (idx / samplesPerChunk);
            int at = (int) (idx % samplesPerChunk) * per;
            if (pixels) {
                byteChunks.get(chunk).get(at, raw, 0, per);
                for (int k = 0; k < per; k++) {
                    sample[k] = (raw[k] & 0xFF) / 127.5f - 1f;
                }
            } else {
                floatChunks.get(chunk).get(at, sample, 0, per);
            }
            if (channelsLast) {
                toChannelsFirst(sample, out, b * per);
            } else {
                System.arraycopy(sample, 0, out, b * per, per);
            }
            lab[b] = labels[idx];
        }
        Tensor images = Tensors.fromFloats(out, n, shape[0], shape[1], shape[2]);
        return new Batch(images, Tensors.fromLongs(lab, n), indices.clone());
    }

    /** One sample [H, W, C] into [C, H, W] at {@code out[offset...]}. */
    private void toChannelsFirst(float[] hwc, float[] out, int offset) {
        int c = shape[0], hw = shape[1] * shape[2];
        for (int p = 0; p < hw; p++) {
            for (int k = 0; k < c; k++) {
                out[offset + k * hw + p] = hwc[p * c + k];
            }
        }
    }
}
