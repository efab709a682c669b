package org.diffrep;

import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.ExtractSummary;
import org.diffrep.extract.Extractor;
import org.diffrep.extract.FeatureStore;
import org.diffrep.model.ModelFiles;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.model.NoiseEmbedding;
import org.diffrep.model.Parametrisation;
import org.diffrep.model.UNet;
import org.diffrep.study.ProbeStudy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Use as a library" example, compiled and run here so that it stays true: the code
 * between the markers below must be the README's code block, line for line.
 */
class LibraryExampleTest {

    static double example(Path model, Path store, PrintStream out) {
        // README:begin
        // A denoiser file (safetensors or TorchScript) and a data spec in, a feature store out.
        ExtractSummary extracted = new Extractor(ExtractConfig.builder()
                .model(model)
                .data("builtin:mnist").limit(600)
                .layers(List.of("mid"))
                .sigmas(0.1f, 1.0f)
                .out(store)
                .build()).run();

        // The store is .npy files with a manifest; FeatureStore maps them.
        FeatureStore features = FeatureStore.open(store);
        float[][] mid = features.features("mid", 1);  // [N, C] at sigma 1.0
        long[] labels = features.labels();            // [N]
        out.printf("%d images, %d channels, first label %d%n", mid.length, mid[0].length, labels[0]);

        // A linear probe per sigma on the store's own train/test split, and the ensemble around the best.
        ProbeStudy.Report report = ProbeStudy.run(features, List.of("mid"), ProbeStudy.Settings.DEFAULTS, out);
        ProbeStudy.Curve curve = report.curves().get(0);
        out.printf("best sigma %.2f: accuracy %.3f%n", curve.ensemble().bestSigma(), curve.ensemble().bestAccuracy());
        // README:end
        assertEquals(600, extracted.images());
        return curve.ensemble().bestAccuracy();
    }

    @Test
    void readmeExampleRunsOnRealDigits(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("unet.safetensors");
        NetworkDenoiser unet = ModelFiles.build(new UNet.Config(new long[]{1, 28, 28}, new int[]{8, 16}, 1,
                new int[]{}, NoiseEmbedding.FOURIER, Parametrisation.EDM), 3);
        ModelFiles.save(unet, model, Map.of());
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        double accuracy = example(model, tmp.resolve("store"), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String printed = buf.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("600 images, 16 channels"), printed);
        // Even an untrained UNet's channel means beat chance (10%) on real digits.
        assertTrue(accuracy > 0.3, "probe accuracy " + accuracy);
    }

    @Test
    void readmeShowsThisExample() throws Exception {
        List<String> source = Files.readAllLines(Path.of("src/test/java/org/diffrep/LibraryExampleTest.java"));
        List<String> code = strip(source.subList(source.indexOf("        // README:begin") + 1,
                source.indexOf("        // README:end")));
        List<String> readme = Files.readAllLines(Path.of("README.md"));
        int start = readme.indexOf("## Use as a library");
        assertTrue(start >= 0, "README has a section 'Use as a library'");
        int open = readme.subList(start, readme.size()).indexOf("```java") + start;
        int close = readme.subList(open + 1, readme.size()).indexOf("```") + open + 1;
        List<String> block = strip(readme.subList(open + 1, close));
        int body = block.indexOf(code.get(0));
        assertTrue(body >= 0, "README's example contains the test's first line: " + code.get(0));
        assertEquals(code, block.subList(body, Math.min(block.size(), body + code.size())),
                "README's example and LibraryExampleTest#example differ");
    }

    private static List<String> strip(List<String> lines) {
        return lines.stream().map(String::strip).toList();
    }
}
