package org.diffrep.plan;

import org.diffrep.analysis.ActiveChannels;
import org.diffrep.analysis.KMeansConfig;
import org.diffrep.analysis.SparsityAnalysis;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.InputMode;
import org.diffrep.sae.SaeConfig;
import org.diffrep.study.ProbeStudy;
import org.diffrep.train.TrainConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A batch plan, parsed and expanded: the models, the datasets and the cells of their cross product
 * (model x dataset x input mode), each with its own extraction and probe settings after the plan's
 * per-dataset and per-model overrides. Read one with {@link PlanParser#read}; run it with
 * {@link PlanRunner}. docs/PLANS.md describes the YAML schema.
 *
 * @param file     the plan file (for messages)
 * @param out      the run directory: stages' caches, summary and report
 * @param models   model name -> where its weights come from, in the plan's order
 * @param data     dataset name -> data spec, in the plan's order
 * @param cells    every cell, models outer, then datasets, then input modes
 * @param baseline whether each dataset also gets a linear probe on raw pixels (default true)
 * @param cluster  k-means at each tap's peak sigma, or null
 * @param sparsity channel sparsity at each tap's peak sigma, or null
 * @param sae      a TopK SAE trained on each tap at its peak sigma, or null
 */
public record Plan(Path file, Path out, Map<String, ModelSource> models, Map<String, String> data, List<Cell> cells,
                   boolean baseline, Cluster cluster, Sparsity sparsity, Sae sae) {

    /**
     * The optional k-means analysis of each cell's taps at their peak sigma (null: none).
     *
     * @param k      clusters, or null for the dataset's number of classes
     * @param config the other k-means settings ({@code k} in it is replaced per cell)
     */
    public record Cluster(Integer k, KMeansConfig config) {
    }

    /**
     * The optional channel-sparsity analysis of each cell's taps at their peak sigma (null: none).
     *
     * @param rule     which channels count as active
     * @param perClass images per class in the overlap sample
     * @param seed     seed of that sample
     */
    public record Sparsity(ActiveChannels rule, int perClass, long seed) {
        /** Those of {@code diffrep sparsity}. */
        public static final Sparsity DEFAULTS = new Sparsity(ActiveChannels.DEFAULT, SparsityAnalysis.DEFAULT_PER_CLASS,
                SparsityAnalysis.DEFAULT_SEED);
    }

    /**
     * The optional TopK SAE of each cell's taps at their peak sigma (null: none).
     *
     * @param config      the SAE settings ({@code inputDim} in it is replaced by each store's width)
     * @param defaultKAux the plan gives no k_aux: each store's width sets it (D/2, SaeConfig's default)
     */
    public record Sae(SaeConfig config, boolean defaultKAux) {
        /** The settings for rows of width {@code width}. */
        public SaeConfig forWidth(int width) {
            SaeConfig.Builder b = config.toBuilder().inputDim(width);
            return (defaultKAux ? b.kAuxDefault() : b).build();
        }
    }

    /** A model: a file, or a training recipe run (and cached) before the cells that use it. */
    public record ModelSource(String name, Path file, TrainRecipe train) {
    }

    /**
     * A training recipe: the architecture and {@link TrainConfig}, trained on the training split of
     * {@code data} (the split of {@code trainFrac} and the recipe's seed).
     *
     * @param data        data spec to train on
     * @param arch        unet or mlp
     * @param channels    UNet channels per level
     * @param blocks      UNet residual blocks per level
     * @param attention   UNet resolutions with self-attention
     * @param depth       MLP hidden layers
     * @param width       MLP width
     * @param config      optimiser settings
     * @param trainFrac   train share of the split, or null for the dataset's own split or 0.8
     */
    public record TrainRecipe(String data, String arch, int[] channels, int blocks, int[] attention, int depth,
                              int width, TrainConfig config, Double trainFrac) {
    }

    /**
     * One cell: a feature store of one model on one dataset with one input mode, and the probe study on it.
     *
     * @param model   model name
     * @param data    dataset name
     * @param input   clean or noisy
     * @param extract extraction settings (model, data spec and layers set; {@code out} is set per run)
     * @param probe   probe study settings
     */
    public record Cell(String model, String data, InputMode input, ExtractConfig extract, ProbeStudy.Settings probe) {
        /** {@code model/data/input}: how tables and messages name the cell. */
        public String id() {
            return model + "/" + data + "/" + input.id();
        }

        public List<String> layers() {
            return extract.layers();
        }
    }
}
