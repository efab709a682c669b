package org.diffrep.cli;

import org.diffrep.study.MolrgExperiment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code diffrep demo}: the MoLRG experiment on clean input with the networks shipped in the jar
 * (trained by {@link MolrgExperiment.Settings#DEMO_MODELS_COMMAND}); needs no data and no model.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the MoLRG experiment on clean input (under two minutes on two cores, no data or model needed)",
                "with 3 MLPs shipped in the jar, trained by the project's recipe until close to the optimal denoiser:",
                "where CSNR and probe accuracy peak over the noise level, for the optimum, the linear denoiser and the MLPs."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("diffrep-demo");

    @Option(names = "--quick", description = "A few-second version with tiny sizes that trains its own networks (for smoke tests).")
    boolean quick;

    @Override
    public Integer call() {
        MolrgExperiment.Settings s = quick ? MolrgExperiment.Settings.quick() : MolrgExperiment.Settings.demo();
        System.out.printf("diffrep demo: MoLRG n=%d d=%d K=%d delta=%s, %s input, %d MLPs of width %d %s%n", s.n(), s.d(),
                s.k(), s.delta(), s.input().id(), s.seeds(), s.hidden(),
                s.models() == null ? "trained here" : "from " + s.models() + " (remade by: "
                        + MolrgExperiment.Settings.DEMO_MODELS_COMMAND + ")");
        MolrgExperiment.Result r = MolrgExperiment.run(s, out, System.err);
        MolrgExperiment.table(r).print(System.out);
        MolrgExperiment.summary(r, out).forEach(System.out::println);
        return 0;
    }
}
