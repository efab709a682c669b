package org.diffrep.cli;

import org.diffrep.plan.Plan;
import org.diffrep.plan.PlanParser;
import org.diffrep.plan.PlanReport;
import org.diffrep.plan.PlanRunner;
import org.diffrep.report.TextTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code diffrep run PLAN.yaml}: a batch plan's cells (models x datasets x inputs), cached stage by stage, one report. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a batch plan (see docs/PLANS.md): every model x dataset x input mode is a cell whose"
                + " feature store and probe study are cached by the hash of what they depend on, so a rerun computes"
                + " only what is new or unfinished.",
                "Writes summary.json, summary.csv and report/index.html into the run directory.",
                "Exit code: 0 all cells finished, 1 a cell failed (the others still ran), 2 a bad plan."})
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "PLAN", description = "The plan file (YAML).")
    Path planFile;

    @Option(names = "--dry-run", description = "List the cells and which of their stages are cached; compute nothing.")
    boolean dryRun;

    @Option(names = "--jobs", paramLabel = "N",
            description = "Cells run side by side, the threads split between them (default: ${DEFAULT-VALUE}).")
    int jobs = 1;

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default: the plan's out).")
    Path out;

    @Override
    public Integer call() {
        Plan plan = PlanParser.read(planFile, out);
        PlanRunner runner = new PlanRunner(plan).jobs(jobs);
        if (dryRun) {
            TextTable t = new TextTable("cell", "taps", "sigmas", "store", "key", "probe");
            for (PlanRunner.Planned p : runner.dryRun()) {
                t.row(p.cell().id(), String.join(",", p.cell().layers()), p.cell().extract().sigmas().length,
                        p.storeState(), p.storeKey() == null ? "" : "stores/" + p.storeKey().substring(0, 16),
                        p.probeCached() ? "cached" : "to compute");
            }
            t.print(System.out);
            System.out.println(plan.cells().size() + " cells; run directory " + plan.out());
            return 0;
        }
        PlanRunner.Result r = runner.run();
        PlanReport.print(System.out, r);
        System.out.printf("%d cells, %d failed, %.1f s; wrote %s%n", r.cells().size(), r.failed(), r.seconds(),
                plan.out().resolve("report").resolve("index.html"));
        return r.failed() > 0 ? ErrorHandler.RUNTIME_ERROR : 0;
    }
}
