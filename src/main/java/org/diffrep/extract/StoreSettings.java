package org.diffrep.extract;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * @param partition   null for a whole store; for a partial store (one partition of a run, see
 *                    {@link Partition}) which one, and where its rows sit in the whole run. Then
 *                    {@code count} is the rows of this part. Left out of the manifest when null.
 * @param reductions  per tap, the reduction chosen with {@link ExtractConfig#reduce} and a hash of its code
 *                    ({@link ReductionRecord}); null (left out of the manifest) when every tap uses {@code pool}
 * @param device      the device the features were computed on ({@link ExtractConfig#device}); null (left out of the
 *                    manifest) for the CPU. A GPU's kernels round differently, so resume and merge refuse a change
 */
public record StoreSettings(String model, String modelId, String data, long count, List<String> layers,
                            List<Float> sigmas, String input, int noiseDraws, String pool, int topk, int batch,
                            int shardSize, int forwardRows, long seed, String split, Double trainFrac, long limit,
                            @JsonInclude(JsonInclude.Include.NON_NULL) PartitionRange partition,
                            @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, ReductionRecord> reductions,
                            @JsonInclude(JsonInclude.Include.NON_NULL) String device) {

    /**
     * The partition a partial store holds: partition {@code index} of {@code count}, whose rows are the ranks
     * {@code first .. first + settings.count - 1} of the {@code total} images the whole run selects.
     */
    public record PartitionRange(int index, int count, long first, long total) {
        @Override
        public String toString() {
            return index + "/" + count + " (first rank " + first + " of " + total + ")";
        }
    }

    /** The settings of the whole run: no partition, and the count of all its images. */
    public StoreSettings whole() {
        return partition == null ? this : new StoreSettings(model, modelId, data, partition.total(), layers, sigmas,
                input, noiseDraws, pool, topk, batch, shardSize, forwardRows, seed, split, trainFrac, limit, null,
                reductions, device);
    }

    /** The name of the reduction that made the rows of {@code layer}: its {@link #reductions} entry, else {@link #pool}. */
    public String reductionOf(String layer) {
        ReductionRecord r = reductions == null ? null : reductions.get(layer);
        return r == null ? pool : r.name();
    }

    /** "name: stored X, requested Y" for each setting that differs (empty when they agree). */
    public List<String> differences(StoreSettings requested) {
        return differences(requested, "stored", "requested");
    }

    /** "name: THIS X, OTHER Y" for each setting that differs, {@code thisName} and {@code otherName} naming the two. */
    public List<String> differences(StoreSettings requested, String thisName, String otherName) {
        List<String> out = new ArrayList<>();
        diff(out, "model", model, requested.model, thisName, otherName);
        diff(out, "model content (sha256)", modelId, requested.modelId, thisName, otherName);
        diff(out, "data", data, requested.data, thisName, otherName);
        diff(out, "layers", layers, requested.layers, thisName, otherName);
        diff(out, "sigmas", sigmas, requested.sigmas, thisName, otherName);
        diff(out, "input", input, requested.input, thisName, otherName);
        diff(out, "noise draws", noiseDraws, requested.noiseDraws, thisName, otherName);
        diff(out, "pool", pool, requested.pool, thisName, otherName);
        diff(out, "topk", topk, requested.topk, thisName, otherName);
        diff(out, "batch", batch, requested.batch, thisName, otherName);
        diff(out, "shard size", shardSize, requested.shardSize, thisName, otherName);
        diff(out, "forward rows", forwardRows, requested.forwardRows, thisName, otherName);
        diff(out, "seed", seed, requested.seed, thisName, otherName);
        diff(out, "split", split, requested.split, thisName, otherName);
        diff(out, "train fraction", trainFrac, requested.trainFrac, thisName, otherName);
        diff(out, "limit", limit, requested.limit, thisName, otherName);
        diff(out, "count", count, requested.count, thisName, otherName);
        diff(out, "partition", partition, requested.partition, thisName, otherName);
        diff(out, "device", device == null ? "cpu" : device, requested.device == null ? "cpu" : requested.device,
                thisName, otherName);
        diffReductions(out, requested.reductions, thisName, otherName);
        return out;
    }

    /** Per tap, a reduction or its code that differs: "reduction of layer L: stored X, requested Y". */
    private void diffReductions(List<String> out, Map<String, ReductionRecord> other, String thisName,
                                String otherName) {
        Map<String, ReductionRecord> mine = reductions == null ? Map.of() : reductions;
        Map<String, ReductionRecord> theirs = other == null ? Map.of() : other;
        java.util.Set<String> taps = new java.util.TreeSet<>(mine.keySet());
        taps.addAll(theirs.keySet());
        for (String tap : taps) {
            ReductionRecord a = mine.get(tap), b = theirs.get(tap);
            if (!Objects.equals(a, b)) {
                String what = a != null && b != null && a.name().equals(b.name()) && a.kind().equals(b.kind())
                        && !Objects.equals(a.hash(), b.hash()) ? "reduction " + a.name() + " of layer " + tap
                        + " changed its code (" + (a.source() == null ? "" : a.source() + ", ") + thisName + " "
                        + a.hash() + ", " + otherName + " " + b.hash() + ")" : null;
                out.add(what != null ? what : "reduction of layer " + tap + ": " + thisName + " "
                        + (a == null ? "pool" : a) + ", " + otherName + " " + (b == null ? "pool" : b));
            }
        }
    }

    private static void diff(List<String> out, String name, Object stored, Object requested, String thisName,
                             String otherName) {
        if (!Objects.equals(stored, requested)) {
            out.add(name + ": " + thisName + " " + stored + ", " + otherName + " " + requested);
        }
    }
}
