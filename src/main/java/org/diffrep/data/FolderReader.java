package org.diffrep.data;

import org.diffrep.InvalidInputException;
import org.diffrep.io.Limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * An image folder with one subfolder per class (class names are the subfolder names, sorted). PNG and JPEG files
 * are decoded with javax.imageio, scaled so the shorter side is {@code size} (bilinear) and centre-cropped to
 * size x size, as grey (1 channel, ITU-R 601 luma) or RGB (3 channels) ({@link ImageDecoding}).
 *
 * <p>{@link #read} streams: it keeps the sorted list of files and their labels, checks every image's header once
 * (a format no reader knows, or more than {@link #MAX_PIXELS} pixels, fails here) and decodes the images of a
 * batch when the batch is asked for, so memory does not grow with the number of images.
 */
public final class FolderReader {

    /** The largest --data folder:DIR,size=S. */
    static final int MAX_SIZE = ImageDecoding.MAX_SIZE;
    /** The most pixels an image may declare before it is decoded. */
    static final long MAX_PIXELS = ImageDecoding.MAX_PIXELS;

    private FolderReader() {
    }

    /**
     * Indexes every image under {@code dir/<class>/} and checks their headers; images are decoded per batch.
     *
     * @throws InvalidInputException for a missing or empty folder, a class folder without images, or an unreadable image
     */
    public static Dataset read(Path dir, int size, int channels, String source) {
        Index index = index(dir, size, channels, source);
        for (Path f : index.files) {
            ImageDecoding.checkHeader(ImageDecoding.of(f), f.toString());
        }
        return new FolderDataset(index.files, index.labels, index.names, size, channels, source);
    }

    /** Decodes every image up front into memory (the reader before streaming; small folders, tests). */
    static InMemoryDataset readInMemory(Path dir, int size, int channels, String source) {
        Index index = index(dir, size, channels, source);
        long total = index.files.size();
        int per = channels * size * size;
        byte[] pixels = new byte[Limits.inMemory(total * per, 1, dir.toString(), total + " images of " + per + " bytes")];
        for (int i = 0; i < total; i++) {
            Path f = index.files.get(i);
            ImageDecoding.decodeInto(ImageDecoding.of(f), f.toString(), size, channels, pixels, i * per);
        }
        return InMemoryDataset.ofPixels(source, new int[]{channels, size, size}, pixels, index.labels, index.names, null);
    }

    private record Index(List<Path> files, int[] labels, List<String> names) {
    }

    private static Index index(Path dir, int size, int channels, String source) {
        ImageDecoding.checkOptions(size, channels, source);
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir + ": no such directory (folder:DIR expects one subfolder per class)");
        }
        List<Path> classDirs = list(dir).stream().filter(Files::isDirectory).sorted().toList();
        if (classDirs.isEmpty()) {
            throw new InvalidInputException(dir + ": empty: expected one subfolder per class holding .png/.jpg images");
        }
        List<String> names = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int k = 0; k < classDirs.size(); k++) {
            Path c = classDirs.get(k);
            List<Path> images = list(c).stream()
                    .filter(p -> Files.isRegularFile(p) && ImageDecoding.isImageName(p.getFileName().toString()))
                    .sorted().toList();
            if (images.isEmpty()) {
                throw new InvalidInputException(c + ": class folder with no images; expected .png, .jpg or .jpeg files");
            }
            names.add(c.getFileName().toString());
            files.addAll(images);
            for (int i = 0; i < images.size(); i++) {
                labels.add(k);
            }
            Limits.inMemory(files.size() * 8L, 1, dir.toString(), files.size() + " file names");
        }
        return new Index(files, labels.stream().mapToInt(Integer::intValue).toArray(), names);
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new InvalidInputException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    /** The streaming folder dataset: file paths and labels in memory, images decoded per batch. Immutable. */
    static final class FolderDataset extends LabelledDataset {
        private final List<Path> files;
        private final int size;
        private final int channels;

        FolderDataset(List<Path> files, int[] labels, List<String> names, int size, int channels, String source) {
            super(source, new int[]{channels, size, size}, labels.clone(), names);
            this.files = List.copyOf(files);
            this.size = size;
            this.channels = channels;
        }








        @Override
        public Batch batch(long[] indices) {
            int per = sampleSize();
            int n = indices.length;
            checkBatch(n);
            for (long idx : indices) {
                checkIndex(idx);
            }
            byte[] pixels = new byte[n * per];
            for (int b = 0; b < n; b++) {
                Path f = files.get((int) indices[b]);
                ImageDecoding.decodeInto(ImageDecoding.of(f), f.toString(), size, channels, pixels, b * per);
            }
            return ImageDecoding.toBatch(pixels, imageShape(), labels, indices);
        }
    }
}
