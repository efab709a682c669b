package org.diffrep.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.diffrep.model.ModelFiles;
import org.diffrep.model.UNet;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.Threads;
import org.diffrep.train.TensorImageSource;
import org.diffrep.train.TrainConfig;
import org.diffrep.train.Trainer;

/**
 * {@code tools/bench-model [--json FILE] [--batch N] [--reps N] [--threads N]}: default UNet on
 * MNIST-sized input (1x28x28): forward images/s in inference mode versus the naive call with
 * autograd on, and training images/s (forward, backward, Adam, EMA).
 */
public final class ModelBenchmark {

    private ModelBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        Path json = null;
        int batch = 256;
        int reps = 3;
        int threads = 0;
        int trainBatch = 64;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = Path.of(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--train-batch" -> trainBatch = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: tools/bench-model [--json FILE] [--batch 256] [--train-batch 64] "
                            + "[--reps 3] [--threads N]");
                    System.exit(2);
                }
            }
        }
        Threads.set(threads);
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
        if (json != null) {
            Files.writeString(json, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
        }
    }

    /** Median seconds of {@code reps} timed runs after one warm-up run. */
    private static double time(int reps, Runnable r) {
        return MedianTimer.seconds(1, reps, r);
    }
}
