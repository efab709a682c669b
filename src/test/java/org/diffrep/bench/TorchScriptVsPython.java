package org.diffrep.bench;

import org.diffrep.extract.ExtractConfig;
import org.diffrep.extract.ExtractSummary;
import org.diffrep.extract.Extractor;
import org.diffrep.ops.Threads;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The TorchScript-vs-Python lines of {@code bench extract}: each UNet of tools/torchscript_small_unet.py exported
 * with the local PyTorch (a reference, never a dependency), extracted by diffrep (mid-block means, default grid,
 * clean input) and by PyTorch's own loop over the same file, images and threads; the ratio and the largest feature
 * difference.
 */
final class TorchScriptVsPython {

    /** The UNets compared: the export function in tools/torchscript_small_unet.py and what it is. */
    static final Map<String, String> MODELS = new LinkedHashMap<>();

    static {
        MODELS.put("make", "GroupNorm + attention, 32/64/64");
        MODELS.put("make_no_attention", "GroupNorm, no attention, 32/64/64");
        MODELS.put("make_wide", "GroupNorm + attention, 32/64/128");
    }

    private static final Pattern LINE = Pattern.compile("python loop: ([0-9.]+) images/s.*torch ([^,]+),.*difference to the store: ([0-9.eE+-]+)");

    private TorchScriptVsPython() {
    }

    /** The figures, or null (and a line saying why) when no python3 with torch is there. */
    static List<Object> run(int images, int batch) throws IOException, InterruptedException {
        String python = findPython();
        if (python == null) {
            System.out.println("torchscript vs python: skipped (no python3 with torch: set DIFFREP_PYTHON, or install"
                    + " Debian's python3-torch)");
            return null;
        }
        Path root = repoRoot();
        Path tmp = Files.createTempDirectory("bench-torchscript");
        List<Object> rows = new ArrayList<>();
        try {
            for (Map.Entry<String, String> m : MODELS.entrySet()) {
                Path file = tmp.resolve(m.getKey() + ".pt");
                exec(root, python, List.of("tools/export_torchscript.py", "torchscript_small_unet:" + m.getKey(), "--taps",
                        "mid,dec1", "--input-shape", "1,28,28", "--out", file.toString()));
                Path store = tmp.resolve(m.getKey() + "-store");
                ExtractConfig cfg = ExtractConfig.builder().model(file).data("builtin:mnist").layers(List.of("mid"))
                        .sigmas(KernelBenchmark.GRID).limit(images).batch(batch).out(store).build();
                ExtractSummary s = new Extractor(cfg).log(null).run();
                String out = exec(root, python, List.of("tools/torchscript_reference_loop.py", file.toString(),
                        store.toString(), "--threads", Integer.toString(Threads.torchThreads()), "--batch",
                        Integer.toString(batch)));
                Matcher x = LINE.matcher(out);
                if (!x.find()) {
                    throw new IllegalStateException("unexpected output of the reference loop: " + out);
                }
                double py = Double.parseDouble(x.group(1)), diff = Double.parseDouble(x.group(3));
                System.out.printf(Locale.ROOT, "torchscript %-34s diffrep %6.1f images/s, PyTorch %s %6.1f images/s:"
                        + " %.2fx, max abs difference %.1e%n", m.getValue(), s.imagesPerSecond(), x.group(2), py,
                        s.imagesPerSecond() / py, diff);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("model", m.getValue());
                r.put("diffrep_images_per_s", s.imagesPerSecond());
                r.put("python_images_per_s", py);
                r.put("torch", x.group(2));
                r.put("ratio", s.imagesPerSecond() / py);
                r.put("max_abs_difference", diff);
                rows.add(r);
            }
        } finally {
            try (var w = Files.walk(tmp)) {
                for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(q);
                }
            }
        }
        return rows;
    }

    private static String findPython() throws InterruptedException {
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("DIFFREP_PYTHON");
        if (env != null && !env.isBlank()) {
            candidates.add(env);
        }
        candidates.add("/usr/bin/python3");
        candidates.add("python3");
        for (String c : candidates) {
            try {
                Process p = new ProcessBuilder(c, "-c", "import torch, numpy").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() == 0) {
                    return c;
                }
            } catch (IOException e) {
                // not there: try the next
            }
        }
        return null;
    }

    private static String exec(Path root, String python, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(python);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", root.resolve("tools").toString());
        Process p = pb.start();
        String out;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            out = String.join("\n", r.lines().toList());
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** The repository: target/test-classes/.. /.. */
    private static Path repoRoot() {
        try {
            return Path.of(TorchScriptVsPython.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .getParent().getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
