package org.diffrep.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.diffrep.InvalidInputException;
import org.diffrep.data.Dataset;
import org.diffrep.io.Hashes;
import org.diffrep.model.BuiltinModels;
import org.diffrep.io.Json;
import org.diffrep.model.Denoiser;
import org.diffrep.model.ModelFiles;
import org.diffrep.probe.ProbeResult;
import org.diffrep.reconstruct.ReconstructConfig;
import org.diffrep.report.TextTable;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Several models' reconstruction studies on the same targets with the same seeds ({@link ReconstructionStudy}
 * draws its targets and each target's sampler seed from the sampler seed alone, so they agree across models):
 * each model's class-match rates with 95% Wilson intervals ({@link ProbeResult#wilson95}), and every model
 * against the first, paired by target. The samples of one target are not independent, so the Wilson interval
 * over samples is somewhat too narrow; the paired difference is therefore taken per target (the difference of
 * the two models' shares of matching samples on that target) with a normal interval over targets, which
 * holds whatever the dependence inside a target.
 *
 * @param models each model's rates, in the order given
 * @param paired each model after the first against the first
 */
public record ReconstructionComparison(String method, List<ModelScore> models, List<Paired> paired) {

    /**
     * What a study found per target: dataset indices [T], their labels [T], and the class of each sample by
     * 3-NN on pixels and by representation [T][S]. Written as scores.json beside each model's study.
     */
    public record Outcome(int[] targets, long[] labels, long[][] pixelClasses, long[][] representationClasses) {
    }

    /**
     * One model's rates: share of samples of the target's class by pixels and by representation (Wilson over
     * the T*S samples), and the share of targets with at least one sample of their class (Wilson over T).
     */
    public record ModelScore(String name, String model, int targets, int samplesPerTarget, long pixelMatches,
                             double pixelRate, double[] pixelInterval95, long representationMatches,
                             double representationRate, double[] representationInterval95, double atLeastOneRate,
                             double[] atLeastOneInterval95, double allRate) {
    }

    /**
     * Model b minus model a (the first) on the same targets: mean over targets of the difference in the share of
     * samples of the target's class (by pixels), its 95% normal interval over targets, and how many targets b
     * did better on, worse on, or the same.
     */
    public record Paired(String a, String b, double difference, double[] interval95, int better, int worse,
                         int same) {
    }

    /** z of a two-sided 95% normal interval. */
    private static final double Z95 = 1.959963984540054;

    /**
     * Runs (or reads back) each model's study on {@code targets} targets of {@code data} into
     * {@code out/<name>/} and compares them. A model whose {@code scores.json} there was written with the same
     * model file (content hash), data, targets and settings is read back instead of rerun, so a comparison can
     * grow one model at a time. Progress lines go to {@code log}.
     */
    public static ReconstructionComparison run(List<Path> modelFiles, Dataset data, int targets, ReconstructConfig cfg,
                                               Path out, PrintStream log) {
        List<String> names = names(modelFiles);
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < modelFiles.size(); i++) {
            Path file = modelFiles.get(i);
            Path dir = out.resolve(names.get(i));
            String key = key(file, data, targets, cfg);
            Outcome o = readBack(dir.resolve("scores.json"), key);
            if (o != null) {
                log.printf("%s: read back %s (same model, data, targets and settings)%n", names.get(i),
                        dir.resolve("scores.json"));
            } else {
                log.printf("%s: %d targets x %d samples ...%n", names.get(i), targets, cfg.samples());
                Denoiser d = ModelFiles.load(file);
                long t0 = System.nanoTime();
                ReconstructionStudy st = ReconstructionStudy.run(d, data, targets, cfg);
                st.write(dir, data);
                o = st.outcome();
                writeScores(dir, file, data, targets, cfg, o);
                log.printf("%s: done in %.1f s, wrote %s%n", names.get(i), (System.nanoTime() - t0) / 1e9, dir);
            }
            outcomes.add(o);
        }
        ReconstructionComparison c = of(names, modelFiles.stream().map(Path::toString).toList(), outcomes,
                cfg.guidance().method());
        Json.write(out.resolve("comparison.json"), c);
        return c;
    }

    /**
     * Writes {@code dir}/scores.json: the outcome of {@code model}'s study under its content key, so that a
     * comparison with {@code --out} the parent of {@code dir} (named as the model file) reads it back.
     */
    public static void writeScores(Path dir, Path model, Dataset data, int targets, ReconstructConfig cfg,
                                   Outcome outcome) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key(model, data, targets, cfg));
        m.put("model", model.toString());
        m.put("outcome", outcome);
        Json.write(dir.resolve("scores.json"), m);
    }

    /** The comparison of outcomes on the same targets (the first is the reference of every paired difference). */
    public static ReconstructionComparison of(List<String> names, List<String> sources, List<Outcome> outcomes,
                                              String method) {
        if (outcomes.isEmpty() || names.size() != outcomes.size() || sources.size() != outcomes.size()) {
            throw new IllegalArgumentException("one name and source per outcome, at least one");
        }
        Outcome first = outcomes.get(0);
        for (Outcome o : outcomes) {
            if (!Arrays.equals(o.targets(), first.targets()) || !Arrays.equals(o.labels(), first.labels())) {
                throw new IllegalArgumentException("outcomes on different targets cannot be paired");
            }
        }
        List<ModelScore> scores = new ArrayList<>();
        for (int i = 0; i < outcomes.size(); i++) {
            scores.add(score(names.get(i), sources.get(i), outcomes.get(i)));
        }
        List<Paired> paired = new ArrayList<>();
        for (int i = 1; i < outcomes.size(); i++) {
            paired.add(paired(names.get(0), names.get(i), first, outcomes.get(i)));
        }
        return new ReconstructionComparison(method, scores, paired);
    }

    static ModelScore score(String name, String source, Outcome o) {
        int t = o.targets().length;
        int s = o.pixelClasses()[0].length;
        long pix = 0, rep = 0;
        int any = 0, all = 0;
        for (int i = 0; i < t; i++) {
            int m = matches(o.pixelClasses()[i], o.labels()[i]);
            pix += m;
            rep += matches(o.representationClasses()[i], o.labels()[i]);
            any += m > 0 ? 1 : 0;
            all += m == s ? 1 : 0;
        }
        long n = (long) t * s;
        double pr = (double) pix / n, rr = (double) rep / n, ar = (double) any / t;
        return new ModelScore(name, source, t, s, pix, pr, ProbeResult.wilson95(pr, n), rep, rr,
                ProbeResult.wilson95(rr, n), ar, ProbeResult.wilson95(ar, t), (double) all / t);
    }

    static Paired paired(String nameA, String nameB, Outcome a, Outcome b) {
        int t = a.targets().length;
        double[] d = new double[t];
        int better = 0, worse = 0;
        for (int i = 0; i < t; i++) {
            double ra = (double) matches(a.pixelClasses()[i], a.labels()[i]) / a.pixelClasses()[i].length;
            double rb = (double) matches(b.pixelClasses()[i], b.labels()[i]) / b.pixelClasses()[i].length;
            d[i] = rb - ra;
            better += d[i] > 0 ? 1 : 0;
            worse += d[i] < 0 ? 1 : 0;
        }
        double mean = Arrays.stream(d).average().orElse(Double.NaN);
        double half = Double.NaN;
        if (t > 1) {
            double ss = 0;
            for (double v : d) {
                ss += (v - mean) * (v - mean);
            }
            half = Z95 * Math.sqrt(ss / (t - 1) / t);
        }
        return new Paired(nameA, nameB, mean, new double[]{mean - half, mean + half}, better, worse,
                t - better - worse);
    }

    private static int matches(long[] classes, long label) {
        int m = 0;
        for (long c : classes) {
            m += c == label ? 1 : 0;
        }
        return m;
    }

    /** Prints the rates and the paired differences as tables. */
    public void print(PrintStream out) {
        out.println("method: " + method);
        TextTable t = new TextTable("model", "targets x samples", "same class by pixels [95% Wilson]",
                "by representation [95%]", ">= 1 sample of the class [95%, over targets]", "all samples");
        for (ModelScore m : models) {
            t.row(m.name(), m.targets() + " x " + m.samplesPerTarget(),
                    pct(m.pixelRate()) + " (" + m.pixelMatches() + "/" + (long) m.targets() * m.samplesPerTarget()
                            + ") " + interval(m.pixelInterval95()),
                    pct(m.representationRate()) + " " + interval(m.representationInterval95()),
                    pct(m.atLeastOneRate()) + " " + interval(m.atLeastOneInterval95()), pct(m.allRate()));
        }
        t.print(out);
        if (!paired.isEmpty()) {
            TextTable p = new TextTable("paired on the same targets", "difference in same-class share (pixels)",
                    "95% interval over targets", "targets better / worse / same");
            for (Paired d : paired) {
                p.row(d.b() + " - " + d.a(), String.format("%+.1f points", 100 * d.difference()),
                        String.format("[%+.1f, %+.1f]", 100 * d.interval95()[0], 100 * d.interval95()[1]),
                        d.better() + " / " + d.worse() + " / " + d.same());
            }
            p.print(out);
        }
        out.println("(Wilson intervals over samples treat a target's samples as independent, so they are somewhat "
                + "too narrow; the paired interval is over targets.)");
    }

    private static String pct(double v) {
        return String.format("%.1f%%", 100 * v);
    }

    private static String interval(double[] ci) {
        return String.format("[%.1f, %.1f]", 100 * ci[0], 100 * ci[1]);
    }

    /** Each model's directory name: its file name without the extension, numbered where two coincide. */
    static List<String> names(List<Path> files) {
        if (new HashSet<>(files.stream().map(p -> p.toAbsolutePath().normalize()).toList()).size() != files.size()) {
            throw InvalidInputException.field("model", "a model file is given twice: " + files);
        }
        List<String> names = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Path f : files) {
            String base = f.getFileName().toString().replaceFirst("\\.[^.]*$", "");
            String n = base;
            for (int k = 2; !seen.add(n); k++) {
                n = base + "-" + k;
            }
            names.add(n);
        }
        return names;
    }

    private static String key(Path model, Dataset data, int targets, ReconstructConfig cfg) {
        try {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("model", Hashes.sha256Id(BuiltinModels.resolve(model)));
            k.put("data", data.source());
            k.put("size", data.size());
            k.put("targets", targets);
            k.put("config", cfg);
            return Hashes.hex(Hashes.sha256(Json.COMPACT.writeValueAsBytes(k)));
        } catch (IOException e) {
            throw new InvalidInputException(model + ": cannot read the model file (" + e.getMessage() + ")");
        }
    }

    /** The outcome in {@code file} when it was written under {@code key}, else null. */
    private static Outcome readBack(Path file, String key) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode n = Json.COMPACT.readTree(file.toFile());
            if (!key.equals(n.path("key").asText())) {
                return null;
            }
            return Json.COMPACT.treeToValue(n.get("outcome"), Outcome.class);
        } catch (IOException | IllegalArgumentException e) {
            return null; // unreadable or from another version: score the model again
        }
    }
}
