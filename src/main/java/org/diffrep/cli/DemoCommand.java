package org.diffrep.cli;

import org.diffrep.study.MnistDemo;
import org.diffrep.study.MolrgExperiment;
import org.diffrep.study.ProbeStudyReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code diffrep demo}: the MoLRG experiment on clean input with the networks shipped in the jar
 * (trained by {@link MolrgExperiment.Settings#DEMO_MODELS_COMMAND}), then the real-data part ({@link MnistDemo}):
 * {@code builtin:unet-mnist} swept over the default sigma grid on {@code builtin:mnist}; needs no data and no model.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the MoLRG experiment on clean input (under two minutes on two cores, no data or model needed)",
                "with 3 MLPs shipped in the jar, trained by the project's recipe until close to the optimal denoiser:",
                "where CSNR and probe accuracy peak over the noise level, for the optimum, the linear denoiser and the MLPs;",
                "then the real-data part: builtin:unet-mnist (a UNet in the jar) swept over the default sigma grid on",
                "600 digits of builtin:mnist, clean input: linear probes per tap and sigma, the ensemble, the raw-pixel",
                "baseline, 95% intervals (mnist.json, mnist.png)."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("diffrep-demo");

    @Option(names = "--quick", description = "A few-second version with tiny sizes that trains its own networks (for smoke tests).")
    boolean quick;

    @Option(names = "--mnist", negatable = true, fallbackValue = "true",
            description = "Also run the real-data part (builtin:unet-mnist on builtin:mnist); --no-mnist skips it"
                    + " (default: ${DEFAULT-VALUE}).")
    boolean mnist = true;

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
        if (mnist) {
            MnistDemo.Settings m = quick ? MnistDemo.Settings.quick() : MnistDemo.Settings.demo();
            System.out.printf("%ndiffrep demo, real data: %s on %d digits of %s, clean input, taps %s pooled %s, %d sigmas %.3g..%.3g%n",
                    m.model(), m.limit(), m.data(), String.join(",", m.layers()), m.pool(), m.sigmas().size(), m.sigmas().sigma(0),
                    m.sigmas().sigma(m.sigmas().size() - 1));
            MnistDemo.Result mr = MnistDemo.run(m, out, System.err);
            ProbeStudyReport.print(System.out, "builtin:mnist, clean input", mr.report());
            MnistDemo.summary(mr, out).forEach(System.out::println);
        }
        return 0;
    }
}
