package org.diffrep.cli;

import org.diffrep.data.DataSpec;
import org.diffrep.data.ShardPacker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

/** {@code diffrep data pack SPEC --out DIR}: writes any pixel dataset as tar shards ({@link ShardPacker}). */
@Command(name = "pack", mixinStandardHelpOptions = true,
        description = {"Write a dataset as WebDataset-style tar shards that tar:DIR reads back: KEY.png (or .jpg) and"
                + " KEY.cls members, KEY the sample's index, shards PREFIX-000000.tar, ... in the source's order.",
                "PNG is lossless: tar:DIR with the same size and channels gives the same pixels, labels and features as"
                        + " the source. Typical use: pack a folder of images once, then extract from the shards"
                        + " (sequential reads, one file per thousand images).",
                "Example: diffrep data pack folder:photos,size=64 --out shards/ --shard-size 5000"})
final class DataPackCommand implements Runnable {

    private static final ShardPacker.Config D = ShardPacker.Config.DEFAULTS;

    @Parameters(index = "0", paramLabel = "SPEC", description = "The data spec to pack (any pixel source: builtin, idx, cifar, folder, tar, uint8 npy).")
    String data;


    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory of the shards (new or empty).")
    Path out;


    @Option(names = "--shard-size", paramLabel = "N",
            description = "Samples per shard (default: ${DEFAULT-VALUE}; aim for shards of 100 MB to 1 GB on large data).")
    int shardSize = D.shardSize();


    @Option(names = "--format", paramLabel = "F", description = "png (lossless) or jpg (default: ${DEFAULT-VALUE}).")
    ShardPacker.Format format = D.format();


    @Option(names = "--jpeg-quality", paramLabel = "Q", description = "JPEG quality in (0, 1] (default: ${DEFAULT-VALUE}).")
    float jpegQuality = D.jpegQuality();


    @Option(names = "--prefix", paramLabel = "NAME", description = "Shard name prefix (default: ${DEFAULT-VALUE}).")
    String prefix = D.prefix();


    @Option(names = "--limit", paramLabel = "N", description = "Only the first N samples (default: all).")
    long limit = D.limit();


    @Option(names = "--encode-threads", paramLabel = "T", description = "Threads encoding images (default: ${DEFAULT-VALUE}).")
    int encodeThreads = D.encodeThreads();

    @Override
    public void run() {
        ShardPacker.Config cfg = ShardPacker.Config.builder().out(out).shardSize(shardSize).format(format)
                .jpegQuality(jpegQuality).prefix(prefix).limit(limit).encodeThreads(encodeThreads).build();
        System.out.println(ShardPacker.pack(DataSpec.open(data), cfg, System.err));
    }
}
