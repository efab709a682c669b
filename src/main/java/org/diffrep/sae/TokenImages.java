package org.diffrep.sae;

import org.diffrep.model.BuiltinModels;
import org.diffrep.data.Dataset;
import org.diffrep.data.Split;
import org.diffrep.extract.StoreSettings;
import org.diffrep.io.Hashes;
import org.diffrep.model.Denoiser;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;

/**
 * Every image whose tokens a token SAE encodes or inspects, with what a code store needs beside the codes: labels,
 * split, dataset indices and the settings of the source (a {@code --pool none} store's, or those an extraction of the
 * model would record).
 *
 * @param rows           the images' tokens, in row order
 * @param labels         per image
 * @param train          per image, the split (true = train)
 * @param datasetIndices per image, its index in the dataset
 * @param source         the source's settings (data, input, seed, split ...)
 * @param layer          the tap
 * @param sigma          the noise level
 */
public record TokenImages(TokenRows rows, long[] labels, boolean[] train, long[] datasetIndices, StoreSettings source,
                          String layer, float sigma) {

    /** All images of a {@code --pool none} store's layer and sigma. */
    public static TokenImages of(SaeFeatures in) {
        int[] shape = SaeInput.tokenShape(in);
        return new TokenImages(new StoreTokens(in.features(), in.allIds(), shape, in.source() + " tokens"),
                in.store().labels(), in.store().trainMask(), in.datasetIndices(), in.store().settings(), in.layer(),
                in.sigma());
    }

    /**
     * The first {@code limit} images (0: all) of {@code data} through {@code model}, split as extraction splits them
     * ({@link Split#choose} with {@code trainFrac} and {@code seed}).
     */
    public static TokenImages of(Denoiser model, Path modelFile, Dataset data, String layer, float sigma,
                                 Double trainFrac, long seed, long limit, int imageBatch) throws IOException {
        int n = limit > 0 ? (int) Math.min(limit, data.size()) : data.size();
        Split split = Split.choose(data, trainFrac, seed);
        long[] ids = LongStream.range(0, n).toArray();
        long[] labels = new long[n];
        boolean[] train = new boolean[n];
        for (int i = 0; i < n; i++) {
            labels[i] = data.label(i);
            train[i] = split.isTrain(i);
        }
        ModelTokens rows = ModelTokens.open(model, data, layer, sigma, ids, imageBatch, 1,
                modelFile + " " + layer + " on " + data.source() + " tokens");
        StoreSettings s = new StoreSettings(modelFile.toString(), Hashes.sha256Id(BuiltinModels.resolve(modelFile)), data.source(), n,
                List.of(layer), List.of(sigma), "clean", 1, "none", 0, imageBatch, n, imageBatch, seed, "all", trainFrac,
                limit, null, null, null);
        return new TokenImages(rows, labels, train, ids, s, layer, sigma);
    }
}
