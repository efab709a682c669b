package org.diffrep.cli;

import org.diffrep.study.MolrgExperiment.Settings;
import org.diffrep.study.MolrgExperiment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code diffrep molrg}: the MoLRG experiment (analytic posterior against a trained MLP denoiser); the
 * defaults are {@link Settings#DEFAULTS}.
 */
@Command(name = "molrg", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Mixture of low-rank Gaussians: train an MLP denoiser (DDPM, VP linear schedule) and compare it",
                "with the analytic posterior over timesteps: CSNR and linear-probe accuracy.",
                "Writes bases.npy, x0.npy, labels.npy, molrg.json and molrg.png/.svg to --out; a table on stdout."})
final class MolrgCommand implements Callable<Integer> {

    private static final Settings D = Settings.DEFAULTS;

    @Option(names = "--n", description = "Ambient dimension (default: ${DEFAULT-VALUE}).")
    int n = D.n();
    @Option(names = "--d", description = "Class subspace dimension (default: ${DEFAULT-VALUE}).")
    int d = D.d();
    @Option(names = {"--K", "--k"}, description = "Classes (default: ${DEFAULT-VALUE}).")
    int k = D.k();
    @Option(names = "--delta", description = "Off-subspace scale (default: ${DEFAULT-VALUE}).")
    double delta = D.delta();
    @Option(names = "--samples", description = "Training samples (default: ${DEFAULT-VALUE}).")
    int samples = D.samples();
    @Option(names = "--test-samples", description = "Fresh test samples per seed (default: ${DEFAULT-VALUE}).")
    int testSamples = D.testSamples();
    @Option(names = "--T", description = "Steps of the VP linear schedule (default: ${DEFAULT-VALUE}).")
    int vpSteps = D.vpSteps();
    @Option(names = "--epochs", description = "Training epochs (default: ${DEFAULT-VALUE}).")
    int epochs = D.epochs();
    @Option(names = "--hidden", description = "MLP hidden width (default: ${DEFAULT-VALUE}).")
    int hidden = D.hidden();
    @Option(names = "--batch", description = "Training batch (default: ${DEFAULT-VALUE}).")
    int batch = D.batch();
    @Option(names = "--lr", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr = D.lr();
    @Option(names = "--seeds", description = "Test seeds (default: ${DEFAULT-VALUE}).")
    int seeds = D.seeds();
    @Option(names = "--timesteps", split = ",", paramLabel = "T1,T2,...",
            description = "Timesteps, 0-based steps of the schedule (default: 1,5,10,20,40,...,280).")
    int[] timesteps = D.timesteps();
    @Option(names = "--seed", description = "Seed of data, training, noise and probes (default: ${DEFAULT-VALUE}).")
    long seed = D.seed();
    @Option(names = "--l2", description = "Probe L2 penalty (default: chosen by a validation search).")
    Double l2;
    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Override
    public Integer call() {
        Settings s = Settings.builder().n(n).d(d).k(k).delta(delta).samples(samples).testSamples(testSamples)
                .vpSteps(vpSteps).epochs(epochs).hidden(hidden).batch(batch).lr(lr).seeds(seeds).timesteps(timesteps)
                .seed(seed).probeL2(l2 == null ? D.probeL2() : l2).build();
        MolrgExperiment.Result r = MolrgExperiment.run(s, out, System.err);
        MolrgExperiment.table(r).print(System.out);
        MolrgExperiment.summary(r, out).forEach(System.out::println);
        return 0;
    }
}
