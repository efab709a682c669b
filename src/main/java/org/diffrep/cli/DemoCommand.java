package org.diffrep.cli;

import org.diffrep.study.MolrgExperiment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code diffrep demo}: a reduced MoLRG run that needs no data and no model. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs a reduced MoLRG experiment (about a minute on two cores, no data or model needed):",
                "where probe accuracy and CSNR peak over the noise level, for the analytic posterior and a trained MLP."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("diffrep-demo");

    @Option(names = "--quick", description = "A few-second version with tiny sizes (for smoke tests).")
    boolean quick;

    @Override
    public Integer call() {
        MolrgExperiment.Settings s = quick ? MolrgExperiment.Settings.quick() : MolrgExperiment.Settings.demo();
        System.out.printf("diffrep demo: MoLRG n=%d d=%d K=%d delta=%s, MLP width %d trained %d epochs on %d samples%n",
                s.n(), s.d(), s.k(), s.delta(), s.hidden(), s.epochs(), s.samples());
        MolrgExperiment.Result r = MolrgExperiment.run(s, out, System.err);
        MolrgExperiment.table(r).print(System.out);
        MolrgExperiment.summary(r, out).forEach(System.out::println);
        return 0;
    }
}
