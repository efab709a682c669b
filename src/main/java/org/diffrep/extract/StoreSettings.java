package org.diffrep.extract;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything that decides the bytes of a feature store. A resumed run must present the same
 * settings; {@link #differences} names the ones that differ. The batch and shard sizes are here
 * because a resumed run must cut the same batches to give the same bytes; the forward
 * size because LibTorch's kernels, and so the last bits of a feature, depend on it.
 *
 * @param model       the model file as given
 * @param modelId     "sha256:HEX" of the model file (or a name for in-memory models)
 * @param data        the dataset spec
 * @param count       images in the store (N)
 * @param layers      taps, in the order given
 * @param sigmas      noise levels
 * @param input       clean or noisy
 * @param noiseDraws  noisy mode: noise draws averaged per sample
 * @param pool        mean, mean+max or none
 * @param topk        channels kept per sample in topk/ (0: none)
 * @param batch       images per forward
 * @param shardSize   images per shard
 * @param forwardRows rows (image x sigma) of every forward
 * @param seed        noise seed
 * @param split       train, test or all
 * @param trainFrac   share of the dataset in the train part of the split (null: the dataset's own split, else 0.8)
 * @param limit       at most this many images (0: all)
 */
public record StoreSettings(String model, String modelId, String data, long count, List<String> layers,
                            List<Float> sigmas, String input, int noiseDraws, String pool, int topk, int batch,
                            int shardSize, int forwardRows, long seed, String split, Double trainFrac, long limit) {

    /** "name: stored X, requested Y" for each setting that differs (empty when they agree). */
    public List<String> differences(StoreSettings requested) {
        List<String> out = new ArrayList<>();
        diff(out, "model", model, requested.model);
        diff(out, "model content (sha256)", modelId, requested.modelId);
        diff(out, "data", data, requested.data);
        diff(out, "layers", layers, requested.layers);
        diff(out, "sigmas", sigmas, requested.sigmas);
        diff(out, "input", input, requested.input);
        diff(out, "noise draws", noiseDraws, requested.noiseDraws);
        diff(out, "pool", pool, requested.pool);
        diff(out, "topk", topk, requested.topk);
        diff(out, "batch", batch, requested.batch);
        diff(out, "shard size", shardSize, requested.shardSize);
        diff(out, "forward rows", forwardRows, requested.forwardRows);
        diff(out, "seed", seed, requested.seed);
        diff(out, "split", split, requested.split);
        diff(out, "train fraction", trainFrac, requested.trainFrac);
        diff(out, "limit", limit, requested.limit);
        diff(out, "count", count, requested.count);
        return out;
    }

    private static void diff(List<String> out, String name, Object stored, Object requested) {
        if (!Objects.equals(stored, requested)) {
            out.add(name + ": stored " + stored + ", requested " + requested);
        }
    }
}
