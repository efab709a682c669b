package org.diffrep.spark;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.diffrep.InvalidInputException;
import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.InputMode;
import org.diffrep.extract.Pooling;
import org.diffrep.Choice;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A Spark ML transformer for data already in a DataFrame: an image column in, one {@code array<float>} column
 * per tap x noise level out, each the pooled feature vector that {@code diffrep extract} stores in
 * {@code features/<layer>/sigma_<j>.npy} (pooling mean, or the flattened map with pool none).
 *
 * <p>The image column is binary (PNG or JPEG bytes, decoded and scaled to the model's size as {@code folder:}
 * does) or an array of numbers: C*H*W values in CHW order, already in the model's range [-1, 1]. Rows go through
 * the network in batches inside {@code mapPartitions}; each executor JVM loads the model once ({@link ModelCache}).
 * Output columns are named {@code <outputPrefix>_<layer>_s<j>} with the layer's dots as underscores, e.g.
 * {@code features_enc_0_s1} ({@link #columnName}). Saved and loaded with its parameters as every Spark ML
 * stage is ({@code write().save(path)}, {@link #load}), so it can sit in a saved Pipeline.
 *
 * <p>Features equal the store's, bit for bit, when the rows of a DataFrame partition are the store's images in
 * its order from rank 0 with the same batch-independent settings ({@code forwardRows}): a row's position in a
 * forward is its rank in the partition, as in an extraction. Elsewhere the arithmetic may round differently in
 * the last bits (DESIGN.md, "Reproducible features").
 */
public final class DiffrepFeatures extends Transformer implements DefaultParamsWritable {

    private final String uid;

    // Spark's Param takes its parent's uid when made: made in the constructor, after uid is set. Spark finds a
    // transformer's params by its public no-argument methods that return a Param (the accessors below).
    private final Param<String> modelPath;
    private final Param<String> inputCol;
    private final Param<String> idCol;
    private final Param<String> outputPrefix;
    private final StringArrayParam layers;
    private final DoubleArrayParam sigmas;
    private final Param<String> input;
    private final Param<String> pool;
    private final LongParam seed;
    private final IntParam batchSize;
    private final IntParam forwardRows;

    /** Spark ML's reader of a saved transformer (the parameters; the model file is named, not copied). */
    public static MLReader<DiffrepFeatures> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a transformer saved with {@code write().save(path)}. */
    public static DiffrepFeatures load(String path) {
        return read().load(path);
    }

    public DiffrepFeatures() {
        this(Identifiable$.MODULE$.randomUID("diffrepFeatures"));
    }

    public DiffrepFeatures(String uid) {
        this.uid = uid;
        modelPath = new Param<>(this, "modelPath", "model file (safetensors or TorchScript)");
        inputCol = new Param<>(this, "inputCol", "image column: binary PNG/JPEG or array of numbers");
        idCol = new Param<>(this, "idCol",
            "noisy input: long column of sample ids that key the noise (the dataset index in a store)");
        outputPrefix = new Param<>(this, "outputPrefix", "prefix of the feature columns");
        layers = new StringArrayParam(this, "layers", "taps to read");
        sigmas = new DoubleArrayParam(this, "sigmas", "noise levels");
        input = new Param<>(this, "input", "clean or noisy");
        pool = new Param<>(this, "pool", "mean or none");
        seed = new LongParam(this, "seed", "noise seed");
        batchSize = new IntParam(this, "batchSize", "images per batch", ParamValidators.gtEq(1));
        forwardRows = new IntParam(this, "forwardRows", "(image, sigma) rows per forward",
            ParamValidators.gtEq(1));
        ExtractConfig d = ExtractConfig.DEFAULTS;
        double[] grid = new double[d.sigmas().length];
        for (int i = 0; i < grid.length; i++) {
            grid[i] = d.sigmas()[i];
        }
        setDefault(inputCol, "image");
        setDefault(outputPrefix, "features");
        setDefault(layers, d.layers().toArray(String[]::new));
        setDefault(sigmas, grid);
        setDefault(input, d.input().id());
        setDefault(pool, d.pool().id());
        setDefault(seed, d.seed());
        setDefault(batchSize, d.batch());
        setDefault(forwardRows, d.forwardRows());
    }

    public Param<String> modelPath() { return modelPath; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> idCol() { return idCol; }
    public Param<String> outputPrefix() { return outputPrefix; }
    public StringArrayParam layers() { return layers; }
    public DoubleArrayParam sigmas() { return sigmas; }
    public Param<String> input() { return input; }
    public Param<String> pool() { return pool; }
    public LongParam seed() { return seed; }
    public IntParam batchSize() { return batchSize; }
    public IntParam forwardRows() { return forwardRows; }

    public DiffrepFeatures setModelPath(String v) { set(modelPath, v); return this; }
    public DiffrepFeatures setInputCol(String v) { set(inputCol, v); return this; }
    public DiffrepFeatures setIdCol(String v) { set(idCol, v); return this; }
    public DiffrepFeatures setOutputPrefix(String v) { set(outputPrefix, v); return this; }
    public DiffrepFeatures setLayers(String... v) { set(layers, v); return this; }
    public DiffrepFeatures setSigmas(double... v) { set(sigmas, v); return this; }
    public DiffrepFeatures setInput(String v) { set(input, v); return this; }
    public DiffrepFeatures setPool(String v) { set(pool, v); return this; }
    public DiffrepFeatures setSeed(long v) { set(seed, v); return this; }
    public DiffrepFeatures setBatchSize(int v) { set(batchSize, v); return this; }
    public DiffrepFeatures setForwardRows(int v) { set(forwardRows, v); return this; }

    /** The output column of a layer and noise level index: {@code <prefix>_<layer, dots as _>_s<j>}. */
    public String columnName(String layer, int sigmaIndex) {
        return getOrDefault(outputPrefix) + "_" + layer.replace('.', '_') + "_s" + sigmaIndex;
    }

    /**
     * The settings as an extraction configuration, validated there (field names: layers, sigmas, input, pool,
     * batch, forwardRows); the store directory is not used.
     */
    ExtractConfig config() {
        if (!isDefined(modelPath)) {
            throw InvalidInputException.field("modelPath", "is required");
        }
        double[] s = getOrDefault(sigmas);
        float[] f = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            f[i] = (float) s[i];
        }
        InputMode mode = choice(InputMode.class, getOrDefault(input), "input");
        Pooling p = choice(Pooling.class, getOrDefault(pool), "pool");
        if (p == Pooling.MEAN_MAX) {
            throw InvalidInputException.field("pool", ": mean or none here (mean+max's max has no column)");
        }
        if (mode == InputMode.NOISY && !isDefined(idCol)) {
            throw InvalidInputException.fields("{input} noisy needs {idCol}: the noise is keyed by each sample's id",
                    "input", "idCol");
        }
        return ExtractConfig.builder().model(Path.of(getOrDefault(modelPath))).layers(Arrays.asList(getOrDefault(layers)))
                .sigmas(f).input(mode).pool(p).seed((Long) getOrDefault(seed)).batch((Integer) getOrDefault(batchSize))
                .forwardRows((Integer) getOrDefault(forwardRows)).out(Path.of(".")).build();
    }

    private static <E extends Enum<E>> E choice(Class<E> type, String text, String field) {
        try {
            return Choice.parse(type, text);
        } catch (InvalidInputException e) {
            throw InvalidInputException.field(field, ": " + e.getMessage());
        }
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = transformSchema(dataset.schema());
        ExtractConfig cfg = config();
        StructType in = dataset.schema();
        FeatureRows.Spec spec = new FeatureRows.Spec(TaskSpec.of(cfg, org.diffrep.extract.Extractor.fileId(cfg.model())),
                in.fieldIndex(getOrDefault(inputCol)), isDefined(idCol) ? in.fieldIndex(getOrDefault(idCol)) : -1,
                in.fields()[in.fieldIndex(getOrDefault(inputCol))].dataType() instanceof BinaryType);
        return dataset.sparkSession().createDataFrame(
                dataset.toDF().javaRDD().mapPartitions(rows -> new FeatureRows(spec).apply(rows)), schema);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String col = getOrDefault(inputCol);
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw InvalidInputException.field("inputCol", ": no column " + col + " in " + schema.simpleString());
        }
        DataType t = schema.apply(col).dataType();
        boolean ok = t instanceof BinaryType
                || (t instanceof ArrayType a && a.elementType() instanceof NumericType);
        if (!ok) {
            throw InvalidInputException.field("inputCol", ": column " + col + " is " + t.simpleString()
                    + "; expected binary (PNG/JPEG) or an array of numbers");
        }
        if (isDefined(idCol)) {
            String id = getOrDefault(idCol);
            if (!Arrays.asList(schema.fieldNames()).contains(id)
                    || !(schema.apply(id).dataType() instanceof org.apache.spark.sql.types.IntegralType)) {
                throw InvalidInputException.field("idCol", ": expected an integer column " + id + " in "
                        + schema.simpleString());
            }
        }
        List<StructField> fields = new ArrayList<>(Arrays.asList(schema.fields()));
        double[] s = getOrDefault(sigmas);
        for (String layer : getOrDefault(layers)) {
            for (int j = 0; j < s.length; j++) {
                String name = columnName(layer, j);
                if (Arrays.asList(schema.fieldNames()).contains(name)) {
                    throw InvalidInputException.field("outputPrefix", ": column " + name + " exists already");
                }
                fields.add(DataTypes.createStructField(name, DataTypes.createArrayType(DataTypes.FloatType, false),
                        false));
            }
        }
        return DataTypes.createStructType(fields);
    }

    @Override
    public DiffrepFeatures copy(ParamMap extra) {
        return (DiffrepFeatures) defaultCopy(extra);
    }

    @Override
    public String uid() {
        return uid;
    }
}
