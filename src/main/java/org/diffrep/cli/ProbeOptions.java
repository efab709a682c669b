package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.probe.LogisticProbe;
import org.diffrep.probe.NeuralProbe;
import org.diffrep.probe.ProbeKind;
import org.diffrep.study.ProbeStudy;
import picocli.CommandLine.Option;

import java.util.List;

/** Probe options shared by {@code probe} and {@code sweep}. */
final class ProbeOptions {

    @Option(names = "--probe", paramLabel = "KIND", defaultValue = "linear",
            description = "linear (multinomial logistic regression, L-BFGS), bn-linear (BatchNorm + linear, the research's"
                    + " protocol) or mlp (2-layer ReLU) (default: ${DEFAULT-VALUE}).")
    String probe;

    @Option(names = "--label-noise", split = ",", paramLabel = "F", defaultValue = "0",
            description = "Fractions of training labels flipped, one curve each, e.g. 0,0.2,0.4,0.6,0.8 (default: ${DEFAULT-VALUE})."
                    + " Test labels are never touched.")
    List<Double> labelNoise;

    @Option(names = "--ensemble-width", paramLabel = "W", defaultValue = "2",
            description = "Soft-voting ensemble: the best sigma and W neighbours on each side (default: ${DEFAULT-VALUE}).")
    int ensembleWidth;

    @Option(names = "--l2", paramLabel = "L",
            description = "L2 penalty of the linear probe (default: chosen by a validation search over 1e-6..1e-1 on 20%% of the training split).")
    Double l2;

    @Option(names = "--scale", paramLabel = "HOW", defaultValue = "auto",
            description = "Scaling of the centred features for the linear probe: columns (each by its own std), "
                    + "global (one common scale) or auto (global when more than half the values are 0, as in SAE "
                    + "codes; columns otherwise). Default: ${DEFAULT-VALUE}.")
    String scale;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "100",
            description = "Epochs of the bn-linear and mlp probes; 30 left the mlp probe 6 points short on "
                    + "4,000 MNIST rows (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--probe-seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the label noise, the l2 search split and the probes' initialisation (default: ${DEFAULT-VALUE}).")
    long seed;

    ProbeStudy.Settings settings() {
        if (epochs < 1) {
            throw new InvalidInputException("--epochs must be >= 1, got " + epochs);
        }
        LogisticProbe.Settings logistic = LogisticProbe.Settings.defaults().withSeed(seed)
                .withScaling(LogisticProbe.Scaling.parse(scale));
        if (l2 != null) {
            if (!(l2 >= 0)) {
                throw new InvalidInputException("--l2 must be >= 0, got " + l2);
            }
            logistic = logistic.withL2(l2);
        }
        NeuralProbe.Settings neural = NeuralProbe.Settings.defaults().withSeed(seed).withEpochs(epochs);
        double[] noise = labelNoise.stream().mapToDouble(Double::doubleValue).toArray();
        return new ProbeStudy.Settings(ProbeKind.parse(probe), noise, ensembleWidth, logistic, neural, seed);
    }
}
