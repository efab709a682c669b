package org.diffrep.cli;

import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.data.LabelNoise;
import org.diffrep.data.Split;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.Arrays;

/** {@code diffrep data}: open a data spec and print what it holds, to check a spec before long work. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = {"Read a dataset from a data spec and print its size, shape, classes and split.",
                "Specs: builtin:mnist | idx:DIR | idx:IMAGES,LABELS | cifar10:FILE.tar.gz | cifar100:FILE.tar.gz[,labels=fine|coarse]"
                        + " | folder:DIR[,size=32,channels=3] | tar:DIR[,size=32,channels=3] | npy:X.npy,Y.npy | molrg:n=50,d=5,K=3,delta=0.2,samples=12000,seed=0",
                "'diffrep data pack SPEC --out DIR' writes a dataset as tar shards (see 'diffrep data pack --help')."},
        subcommands = {DataPackCommand.class})
final class DataCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    // not required by picocli, so that 'data pack' runs without it; run() asks for it
    @Option(names = "--data", paramLabel = "SPEC", description = "The data spec (required).")
    String spec;

    @Option(names = "--train-frac", paramLabel = "F",
            description = "Training fraction of a stratified seeded split (default: the archive's own split, else 0.8).")
    Double trainFrac;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the split and label noise (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--label-noise", paramLabel = "F", defaultValue = "0",
            description = "Fraction of training labels to flip, to preview the effect (default: ${DEFAULT-VALUE}).")
    double labelNoise;

    @Override
    public void run() {
        if (spec == null) {
            throw new CommandLine.ParameterException(command.commandLine(), "Missing required option: '--data=SPEC'");
        }
        long start = System.nanoTime();
        Dataset d = DataSpec.open(spec);
        double seconds = (System.nanoTime() - start) / 1e9;
        Split split = Split.choose(d, trainFrac, seed);
        PrintStream out = System.out;
        out.printf("source       %s%n", d.source());
        out.printf("samples      %d (read in %.2f s)%n", d.size(), seconds);
        out.printf("shape        %s (C, H, W)%n", Arrays.toString(d.imageShape()));
        out.printf("classes      %d%n", d.numClasses());
        out.printf("split        %d train, %d test (%s)%n", split.trainIndices().length, split.testIndices().length,
                trainFrac == null && d.archiveSplit().isPresent() ? "the archive's own split"
                        : "stratified, train fraction " + (trainFrac == null ? 0.8 : trainFrac) + ", seed " + seed);
        int[] counts = d.classCounts();
        int[] train = new int[d.numClasses()];
        for (int i : split.trainIndices()) {
            train[d.label(i)]++;
        }
        int[] flipped = new int[d.numClasses()];
        if (labelNoise > 0) {
            LabelNoise.Noisy noisy = LabelNoise.flip(d.labels(), d.numClasses(), split, labelNoise, seed);
            for (int i = 0; i < d.size(); i++) {
                flipped[d.label(i)] += noisy.flipped()[i] ? 1 : 0;
            }
            out.printf("label noise  %d of %d training labels flipped (fraction %s, seed %d)%n",
                    noisy.flippedCount(), split.trainIndices().length, labelNoise, seed);
        }
        out.printf("%n%5s  %-20s %8s %8s %8s%s%n", "class", "name", "count", "train", "test", labelNoise > 0 ? "  flipped" : "");
        for (int k = 0; k < counts.length; k++) {
            out.printf("%5d  %-20s %8d %8d %8d%s%n", k, d.classNames().get(k), counts[k], train[k], counts[k] - train[k],
                    labelNoise > 0 ? String.format("  %7d", flipped[k]) : "");
        }
    }
}
