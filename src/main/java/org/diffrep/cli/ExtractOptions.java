package org.diffrep.cli;

import org.diffrep.Choice;
import org.diffrep.InvalidInputException;
import org.diffrep.extract.ConcatTaps;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.GridMeanReduction;
import org.diffrep.extract.Pooling;
import org.diffrep.extract.SplitSelection;
import org.diffrep.noise.SigmaGrid;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Extraction options shared by {@code extract}, {@code sweep} and Spark's {@code SparkExtract} (each adds
 * its own --input and --out, or {@link StoreOptions}); their defaults are {@link ExtractConfig#DEFAULTS}.
 * Public so that another entry point can mix them in; the fields stay picocli's.
 */
public final class ExtractOptions {

    private static final ExtractConfig D = ExtractConfig.DEFAULTS;

    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "Model file (safetensors or TorchScript), or builtin:unet-mnist (a small UNet trained on builtin:mnist, in the jar).")
    Path model;


    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "Dataset spec, e.g. builtin:mnist or idx:DIR.")
    String data;


    @Option(names = "--layers", split = ",", paramLabel = "TAP",
            description = "Taps to read, comma-separated; join taps with '+' to store their pooled rows side by side as one"
                    + " layer, e.g. mid,enc.1+mid+dec.0 (default: ${DEFAULT-VALUE}).")
    List<String> layers = D.layers();


    @Option(names = "--sigmas", paramLabel = "GRID", defaultValue = "default",
            description = "Noise levels: default (16 levels from 0.002 to 80, log-spaced), a list 0.1,0.5,1, edm:N or log:MIN,MAX,N (default: ${DEFAULT-VALUE}).")
    String sigmas;


    @Option(names = "--noise-draws", paramLabel = "R",
            description = "Noisy mode: average features over R noise draws (default: ${DEFAULT-VALUE}).")
    int noiseDraws = D.noiseDraws();


    @Option(names = "--pool", paramLabel = "P",
            description = "mean, mean+max, none (full flattened maps) or a grid mean:GHxGW (each channel averaged over"
                    + " GH x GW cells, e.g. mean:2x2 = 4 values per channel; the same as --reduce TAP=mean:2x2 for every tap)"
                    + " (default: ${DEFAULT-VALUE}).")
    String pool = D.pool().id();


    @Option(names = "--topk", paramLabel = "K",
            description = "Also store the K largest channel means and their indices (default: none).")
    int topk = D.topk();


    @Option(names = "--reduce", split = ",", paramLabel = "TAP=NAME", mapFallbackValue = "",
            description = "Per tap, the reduction that makes its rows instead of --pool: a built-in (mean, mean+max,"
                    + " none), a Java reduction on the classpath, or a --kernel-file, e.g. mid=mean,dec.0=rms"
                    + " (docs/KERNELS.md).")
    Map<String, String> reduce = new LinkedHashMap<>(D.reduce());


    @Option(names = "--kernel-file", paramLabel = "[NAME=]FILE[#SYMBOL]",
            description = "A native reduction for --reduce: CUDA source (.cu, compiled at run time with NVRTC) or a"
                    + " shared library (.so) following the C ABI of docs/KERNELS.md; NAME defaults to the file name."
                    + " Repeatable.")
    List<String> kernelFiles = new ArrayList<>(D.kernelFiles());


    @Option(names = "--batch", paramLabel = "B", description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batch = D.batch();


    @Option(names = "--forward-rows", paramLabel = "F",
            description = "Rows (image x sigma) per forward; best a divisor of batch x sigmas (default: ${DEFAULT-VALUE}).")
    int forwardRows = D.forwardRows();


    @Option(names = "--shard-size", paramLabel = "N",
            description = "Images per shard, the unit of --resume (default: ${DEFAULT-VALUE}).")
    int shardSize = D.shardSize();


    @Option(names = "--decode-threads", paramLabel = "T",
            description = "Threads reading and decoding images ahead of the forward; raise it when folder: or tar:"
                    + " decoding limits the run (the log's 'data' time); features do not depend on it (default: ${DEFAULT-VALUE}).")
    int decodeThreads = D.decodeThreads();


    @Option(names = "--device", paramLabel = "D",
            description = "cpu, cuda or cuda:N: where the network, noise and pooling run (a GPU needs the -Pgpu build);"
                    + " features are written from the CPU, and the store records the device type (default: ${DEFAULT-VALUE}).")
    String device = D.device();


    @Option(names = "--seed", paramLabel = "S", description = "Noise and split seed (default: ${DEFAULT-VALUE}).")
    long seed = D.seed();


    @Option(names = "--limit", paramLabel = "N", description = "At most N images (default: all).")
    long limit = D.limit();


    @Option(names = "--split", paramLabel = "PART",
            description = "train, test or all (default: ${DEFAULT-VALUE}).")
    SplitSelection split = D.split();


    @Option(names = "--train-frac", paramLabel = "F",
            description = "Train share of the split (default: the dataset's own split, else 0.8).")
    Double trainFrac = D.trainFrac();


    @Option(names = "--resume", description = "Continue the store(s) in --out made with the same settings.")
    boolean resume;

    /** A config builder with every option here set; the caller adds input mode and output. */
    public ExtractConfig.Builder builder() {
        // --pool mean:GHxGW is the grid reduction on every tap not given its own --reduce
        GridMeanReduction gridPool;
        try {
            gridPool = GridMeanReduction.parse(pool);
        } catch (IllegalArgumentException e) {
            throw InvalidInputException.field("pool", ": " + e.getMessage());
        }
        Map<String, String> reductions = new LinkedHashMap<>(reduce);
        Pooling pooling = Pooling.MEAN;
        if (gridPool == null) {
            try {
                pooling = Choice.parse(Pooling.class, pool);
            } catch (InvalidInputException e) {
                throw InvalidInputException.field("pool", ": expected mean, mean+max, none or mean:GHxGW, got '" + pool + "'");
            }
        } else {
            for (String layer : layers) {
                if (ConcatTaps.isConcat(layer)) {
                    throw InvalidInputException.field("pool", ": a pooling grid does not apply to the concatenated tap "
                            + layer + "; extract it in a run of its own");
                }
                reductions.putIfAbsent(layer, gridPool.name());
            }
        }
        return ExtractConfig.builder()
                .model(model).data(data).layers(layers).sigmas(grid())
                .noiseDraws(noiseDraws).pool(pooling).topk(topk)
                .batch(batch).forwardRows(forwardRows).shardSize(shardSize).decodeThreads(decodeThreads).device(device).seed(seed).limit(limit)
                .split(split).trainFrac(trainFrac).resume(resume).reduce(reductions).kernelFiles(kernelFiles);
    }

    SigmaGrid grid() {
        return sigmas.equals("default") ? SigmaGrid.defaults() : SigmaGrid.parse(sigmas);
    }
}
