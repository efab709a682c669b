package org.diffrep.bench;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.diffrep.io.Json;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.UNet;
import org.diffrep.ops.Threads;
import org.diffrep.train.TensorImageSource;
import org.diffrep.train.TrainConfig;
import org.diffrep.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench model} (tools/bench-model): default UNet on MNIST-sized input (1x28x28): forward
 * images/s in inference mode versus the naive call with autograd on, forward to {@code mid} only, and
 * training images/s (forward, backward, Adam, EMA).
 */
@Command(name = "model", mixinStandardHelpOptions = true, versionProvider = Bench.Version.class,
        description = "Default UNet on 1x28x28: forward images/s with autograd on, in inference mode and to 'mid' "
                + "only, and training images/s (forward, backward, Adam, EMA). Random weights from seed 0.")
public final class ModelBenchmark implements Callable<Integer> {

    @Mixin
    BenchOptions common;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "256",
            description = "Images per forward call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--train-batch", paramLabel = "N", defaultValue = "64",
            description = "Images per training step (default: ${DEFAULT-VALUE}).")
    int trainBatch;

    @Option(names = "--reps", paramLabel = "R", defaultValue = "3",
            description = "Timed forward calls (median) after one warm-up; training runs max(2, R) steps (default: ${DEFAULT-VALUE}).")
    int reps;

    @Override
    public Integer call() throws IOException {
        if (batch < 1 || trainBatch < 1 || reps < 1) {
            throw new IllegalArgumentException("need --batch, --train-batch and --reps >= 1");
        }
        common.applyThreads();
        torch.manual_seed(0);
        UNet net = new UNet(UNet.Config.defaults(1, 28, 28));
        net.train(false);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", "unet " + ModelFiles.configJson(net));
        out.put("threads", Threads.torchThreads());
        out.put("batch", batch);
        Tensor x;
        Tensor sigma;
        try (PointerScope s = new PointerScope()) {
            x = torch.randn(batch, 1, 28, 28).retainReference();
            sigma = torch.rand(batch).mul(new Scalar(2.0)).add(new Scalar(0.01)).retainReference();
        }
        double naive = time(reps, () -> net.forward(x, sigma, Set.of(), true).denoised().sum().item_double());
        double inference = time(reps, () -> {
            try (InferenceMode m = new InferenceMode()) {
                net.forward(x, sigma, Set.of(), true).denoised().sum().item_double();
            }
        });
        double midOnly = time(reps, () -> {
            try (InferenceMode m = new InferenceMode()) {
                net.forward(x, sigma, Set.of("mid"), false).taps().get("mid").sum().item_double();
            }
        });
        out.put("forward_autograd_img_s", batch / naive);
        out.put("forward_inference_img_s", batch / inference);
        out.put("forward_to_mid_inference_img_s", batch / midOnly);
        out.put("inference_speedup", naive / inference);

        Tensor data;
        try (PointerScope s = new PointerScope()) {
            data = torch.rand(512, 1, 28, 28).mul(new Scalar(2.0)).sub(new Scalar(1.0)).retainReference();
        }
        int trainSteps = Math.max(2, reps);
        TrainConfig cfg = TrainConfig.builder().steps(trainSteps).batch(trainBatch).warmupSteps(10).checkpointEvery(0)
                .build();
        Trainer.Result r;
        try {
            // one untimed step first: the first backward pass allocates and initialises kernels
            new Trainer(net, cfg.toBuilder().steps(1).build()).run(new TensorImageSource(data), null, false, null);
            r = new Trainer(net, cfg).run(new TensorImageSource(data), null, false, null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        out.put("train_batch", trainBatch);
        out.put("train_img_s", r.imagesPerSecond());
        out.put("train_vs_inference_forward", r.imagesPerSecond() / (batch / inference));

        System.out.printf("UNet %s, %d threads%n", ModelFiles.configJson(net), Threads.torchThreads());
        System.out.printf("forward, autograd on     %8.1f img/s (batch %d)%n", batch / naive, batch);
        System.out.printf("forward, inference mode  %8.1f img/s  (x%.2f)%n", batch / inference, naive / inference);
        System.out.printf("forward to mid, inference%8.1f img/s  (x%.2f)%n", batch / midOnly, naive / midOnly);
        System.out.printf("training step            %8.1f img/s (batch %d)  (%.2f of inference forward)%n",
                r.imagesPerSecond(), trainBatch, r.imagesPerSecond() / (batch / inference));
        common.writeJson(out);
        return 0;
    }

    /** Median seconds of {@code reps} timed runs after one warm-up run. */
    private static double time(int reps, Runnable r) {
        return MedianTimer.seconds(1, reps, r);
    }
}
