package org.diffrep.cli;

import org.diffrep.data.MolrgNoiseSpace;
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
    @Option(names = "--noise-space", paramLabel = "others|complement",
            description = "Where a class's delta-scaled part lives: the other classes' span, or the whole orthogonal"
                    + " complement of its basis (Assumption 1) (default: others).")
    String noiseSpace = D.noiseSpace().id();
    @Option(names = "--samples", description = "Training samples (default: ${DEFAULT-VALUE}).")
    int samples = D.samples();
    @Option(names = "--test-samples", description = "Fresh test samples per seed (default: ${DEFAULT-VALUE}).")
    int testSamples = D.testSamples();
    @Option(names = "--T", description = "Steps of the VP linear schedule (default: ${DEFAULT-VALUE}).")
    int vpSteps = D.vpSteps();
    @Option(names = "--epochs", description = "The step cap, in epochs over the samples (default: ${DEFAULT-VALUE}).")
    int epochs = D.epochs();
    @Option(names = "--tolerance", description = "Stop training when the held-out MSE gap to the optimum, mean over the"
            + " grid of MSE_mlp/MSE_opt - 1, is at most this (default: ${DEFAULT-VALUE}).")
    double tolerance = D.tolerance();
    @Option(names = "--eval-every", description = "Training steps between two gap measurements (default: ${DEFAULT-VALUE}).")
    int evalEvery = D.evalEvery();
    @Option(names = "--patience", description = "Gap measurements without a 1% improvement before the rate halves;"
            + " after 3 halvings, before training stops (default: ${DEFAULT-VALUE}).")
    int patience = D.patience();
    @Option(names = "--validation-samples", description = "Held-out samples of the stopping rule (default: ${DEFAULT-VALUE}).")
    int validationSamples = D.validationSamples();
    @Option(names = "--hidden", description = "MLP hidden width (default: ${DEFAULT-VALUE}).")
    int hidden = D.hidden();
    @Option(names = "--batch", description = "Training batch (default: ${DEFAULT-VALUE}).")
    int batch = D.batch();
    @Option(names = "--lr", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr = D.lr();
    @Option(names = "--seeds", description = "Seeds: each trains its own MLP and is tested on its own fresh test set"
            + " (default: ${DEFAULT-VALUE}).")
    int seeds = D.seeds();
    @Option(names = "--timesteps", split = ",", paramLabel = "T1,T2,...",
            description = "Timesteps, 0-based steps of the schedule (default: 1,5,10,20,40,...,280).")
    int[] timesteps = D.timesteps();
    @Option(names = "--seed", description = "Seed of data, training, noise and probes (default: ${DEFAULT-VALUE}).")
    long seed = D.seed();
    @Option(names = "--input", paramLabel = "clean|noisy|both", description = "What the denoiser is fed when CSNR and"
            + " probes are measured: x0 conditioned on sigma (the research's protocol), x_t, or both (default: clean).")
    String input = D.input().id();
    @Option(names = "--probe-samples", description = "Training samples the probes fit on (0 = all) (default: ${DEFAULT-VALUE}).")
    int probeSamples = D.probeSamples();
    @Option(names = "--models", paramLabel = "DIR", description = "Load mlp_seed<j>.safetensors from DIR instead of"
            + " training (DIR may be classpath:/path/; the demo's: " + Settings.DEMO_MODELS + ").")
    String models;
    @Option(names = "--l2", description = "Probe L2 penalty (default: chosen by a validation search).")
    Double l2;
    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Override
    public Integer call() {
        Settings s = settings();
        MolrgExperiment.Result r = MolrgExperiment.run(s, out, System.err);
        MolrgExperiment.table(r).print(System.out);
        MolrgExperiment.summary(r, out).forEach(System.out::println);
        return 0;
    }

    /** The settings the options ask for (validated). */
    Settings settings() {
        return Settings.builder().n(n).d(d).k(k).delta(delta)
                .noiseSpace(MolrgNoiseSpace.parse(noiseSpace, "noiseSpace")).samples(samples).testSamples(testSamples)
                .validationSamples(validationSamples).vpSteps(vpSteps).epochs(epochs).hidden(hidden).batch(batch).lr(lr)
                .tolerance(tolerance).evalEvery(evalEvery).patience(patience).seeds(seeds)
                .input(MolrgExperiment.Input.parse(input, "input")).timesteps(timesteps).seed(seed)
                .probeL2(l2 == null ? D.probeL2() : l2).probeSamples(probeSamples).models(models).build();
    }
}
