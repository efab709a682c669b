package org.diffrep.spark;

import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.InputMode;
import org.diffrep.extract.Pooling;
import org.diffrep.extract.SplitSelection;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@link ExtractConfig} as Spark ships it to the executors: the record itself is not serialisable (a Path, a
 * Partition), so its fields travel as plain values and {@link #config} rebuilds and revalidates it there.
 * {@code modelId} is the driver's sha256 of the model file: executors load the model under that key and check it.
 */
record TaskSpec(String model, String modelId, String data, ArrayList<String> layers, float[] sigmas, InputMode input,
                int noiseDraws, Pooling pool, int topk, int batch, long seed, long limit, SplitSelection split,
                Double trainFrac, String out, boolean resume, int shardSize, int forwardRows) implements Serializable {

    static TaskSpec of(ExtractConfig c, String modelId) {
        return new TaskSpec(c.model().toString(), modelId, c.data(), new ArrayList<>(c.layers()), c.sigmas(),
                c.input(), c.noiseDraws(), c.pool(), c.topk(), c.batch(), c.seed(), c.limit(), c.split(),
                c.trainFrac(), c.out().toString(), c.resume(), c.shardSize(), c.forwardRows());
    }

    /** The configuration again, without partition and with the store directory {@link #out}. */
    ExtractConfig config() {
        return ExtractConfig.builder().model(Path.of(model)).data(data).layers(List.copyOf(layers)).sigmas(sigmas)
                .input(input).noiseDraws(noiseDraws).pool(pool).topk(topk).batch(batch).seed(seed).limit(limit)
                .split(split).trainFrac(trainFrac).out(Path.of(out)).resume(resume).shardSize(shardSize)
                .forwardRows(forwardRows).build();
    }
}
