package org.diffrep.cli;

import org.diffrep.InvalidInputException;
import org.diffrep.probe.LogisticProbe;
import org.diffrep.probe.NeuralProbe;
import org.diffrep.probe.ProbeKind;
import org.diffrep.study.ProbeStudy;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.List;

/** Probe options shared by {@code probe} and {@code sweep}; their defaults are {@link ProbeStudy.Settings#DEFAULTS}. */
final class ProbeOptions {

    private static final ProbeStudy.Settings D = ProbeStudy.Settings.DEFAULTS;

    @Option(names = "--probe", paramLabel = "KIND",
            description = "linear (multinomial logistic regression, L-BFGS), bn-linear (BatchNorm + linear, the research's"
                    + " protocol) or mlp (2-layer ReLU) (default: ${DEFAULT-VALUE}).")
    ProbeKind probe = D.kind();

    @Option(names = "--label-noise", split = ",", paramLabel = "F",
            description = "Fractions of training labels flipped, one curve each, e.g. 0,0.2,0.4,0.6,0.8 (default: ${DEFAULT-VALUE})."
                    + " Test labels are never touched.")
    List<Double> labelNoise = Arrays.stream(D.labelNoise()).boxed().toList();

    @Option(names = "--ensemble-width", paramLabel = "W",
            description = "Soft-voting ensemble: the best sigma and W neighbours on each side (default: ${DEFAULT-VALUE}).")
    int ensembleWidth = D.ensembleWidth();

    @Option(names = "--l2", paramLabel = "L",
            description = "L2 penalty of the linear probe (default: chosen by a validation search over 1e-6..1e-1 on 20%% of the training split).")
    Double l2;

    @Option(names = "--scale", paramLabel = "HOW",
            description = "Scaling of the centred features for the linear probe: columns (each by its own std), "
                    + "global (one common scale) or auto (global when more than half the values are 0, as in SAE "
                    + "codes; columns otherwise). Default: ${DEFAULT-VALUE}.")
    LogisticProbe.Scaling scale = D.logistic().scaling();

    @Option(names = "--epochs", paramLabel = "E",
            description = "Epochs of the bn-linear and mlp probes; 30 left the mlp probe 6 points short on "
                    + "4,000 MNIST rows (default: ${DEFAULT-VALUE}).")
    int epochs = D.neural().epochs();

    @Option(names = "--probe-seed", paramLabel = "S",
            description = "Seed of the label noise, the l2 search split and the probes' initialisation (default: ${DEFAULT-VALUE}).")
    long seed = D.seed();

    @Option(names = "--pixel-baseline", negatable = true, fallbackValue = "true",
            description = "Also probe the raw input pixels of the same rows and split (linear probe, clean labels), printed"
                    + " under the table; --no-pixel-baseline skips it (default: ${DEFAULT-VALUE}).")
    boolean pixelBaseline = D.pixelBaseline();

    @Option(names = "--csnr", negatable = true, fallbackValue = "true",
            description = "Also print each layer's class-specific SNR per sigma (class bases from the train rows, measured"
                    + " on the test rows), in the table, the JSON and the plot; --no-csnr skips it (default: ${DEFAULT-VALUE}).")
    boolean csnr = D.csnr();

    ProbeStudy.Settings settings() {
        if (epochs < 1) {
            throw new InvalidInputException("--epochs must be >= 1, got " + epochs);
        }
        LogisticProbe.Settings.Builder logistic = LogisticProbe.Settings.builder().seed(seed).scaling(scale);
        if (l2 != null) {
            if (!(l2 >= 0)) {
                throw new InvalidInputException("--l2 must be >= 0, got " + l2);
            }
            logistic.l2(l2);
        }
        NeuralProbe.Settings neural = NeuralProbe.Settings.builder().seed(seed).epochs(epochs).build();
        return ProbeStudy.Settings.builder().kind(probe)
                .labelNoise(labelNoise.stream().mapToDouble(Double::doubleValue).toArray())
                .ensembleWidth(ensembleWidth).logistic(logistic.build()).neural(neural).seed(seed).pixelBaseline(pixelBaseline).csnr(csnr).build();
    }
}
