package org.diffrep.sae;

import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.data.Split;
import org.diffrep.model.Denoiser;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an SAE is trained and measured on: training rows, held-out rows (null when there are none) and where
 * they come from, as the entries the SAE file's metadata records ({@code features} or {@code model} and
 * {@code data}, {@code layer}, {@code sigma}, and for tokens {@code tokens} = true and {@code map_shape}), so
 * that {@code sae encode} and {@code sae inspect} find the same rows again.
 *
 * @param train      training rows
 * @param test       held-out rows, or null
 * @param provenance metadata entries naming the source
 */
public record SaeInput(SaeRows train, SaeRows test, Map<String, String> provenance) {

    /** Pooled rows of a store (one row per image), train and test by the store's split. */
    public static SaeInput pooled(SaeFeatures in) {
        long[] test = in.ids(false);
        return new SaeInput(new StoreRows(in.features(), in.ids(true), in.source()),
                test.length == 0 ? null : new StoreRows(in.features(), test, in.source() + " (test rows)"),
                storeProvenance(in));
    }

    /** Tokens of a store written with {@code --pool none} (every position of each image's map), by the store's split. */
    public static SaeInput tokens(SaeFeatures in) {
        int[] shape = tokenShape(in);
        long[] test = in.ids(false);
        Map<String, String> p = storeProvenance(in);
        p.put("tokens", "true");
        p.put("map_shape", Arrays.toString(shape));
        return new SaeInput(new StoreTokens(in.features(), in.ids(true), shape, in.source() + " tokens"),
                test.length == 0 ? null : new StoreTokens(in.features(), test, shape, in.source() + " tokens (test images)"),
                p);
    }

    /** The map shape {C, H, W} of a store's layer when its rows are whole maps ({@code --pool none}); else an input error. */
    public static int[] tokenShape(SaeFeatures in) {
        long[] s = in.store().mapShape(in.layer());
        long row = in.store().rowLength(in.layer());
        if (s.length != 3 || row != s[0] * s[1] * s[2]) {
            throw InvalidInputException.field("tokens", in.store().dir() + ": layer " + in.layer() + " has map shape "
                    + Arrays.toString(s) + " and rows of " + row + " values; tokens need whole maps [C, H, W]: extract "
                    + "it with --pool none (or train on the model with --model)");
        }
        return new int[]{(int) s[0], (int) s[1], (int) s[2]};
    }

    /**
     * Tokens streamed from {@code model}: the train and test images of {@code data} by the split extraction
     * would use ({@link Split#choose} with {@code trainFrac} and {@code seed}), clean input conditioned on
     * {@code sigma}.
     */
    public static SaeInput tokens(Denoiser model, String modelName, Dataset data, String layer, float sigma,
                                  Double trainFrac, long seed, int imageBatch, int bufferImages, long limit) {
        Split split = Split.choose(data, trainFrac, seed);
        int n = limit > 0 ? (int) Math.min(limit, data.size()) : data.size();
        long[] train = java.util.stream.IntStream.range(0, n).filter(split::isTrain).asLongStream().toArray();
        long[] test = java.util.stream.IntStream.range(0, n).filter(i -> !split.isTrain(i)).asLongStream().toArray();
        String src = modelName + " " + layer + " on " + data.source();
        ModelTokens tr = ModelTokens.open(model, data, layer, sigma, train, imageBatch, bufferImages, src + " tokens");
        ModelTokens te = test.length == 0 ? null
                : ModelTokens.open(model, data, layer, sigma, test, imageBatch, bufferImages, src + " tokens (test images)");
        Map<String, String> p = new LinkedHashMap<>();
        p.put("model", modelName);
        p.put("data", data.source());
        p.put("layer", layer);
        p.put("sigma", Float.toString(sigma));
        p.put("tokens", "true");
        p.put("map_shape", Arrays.toString(tr.mapShape()));
        p.put("split_seed", Long.toString(seed));
        if (trainFrac != null) {
            p.put("train_frac", Double.toString(trainFrac));
        }
        if (limit > 0) {
            p.put("limit", Long.toString(limit));
        }
        return new SaeInput(tr, te, p);
    }

    private static Map<String, String> storeProvenance(SaeFeatures in) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("features", in.store().dir().toString());
        meta.put("layer", in.layer());
        meta.put("sigma", Float.toString(in.sigma()));
        meta.put("sigma_index", Integer.toString(in.sigmaIndex()));
        return meta;
    }

    /** Whether an SAE file's metadata says it was trained on tokens. */
    public static boolean isTokens(Map<String, String> metadata) {
        return "true".equals(metadata.get("tokens"));
    }
}
