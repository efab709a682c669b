package org.diffrep.plan;

import org.diffrep.extract.InputMode;
import org.diffrep.io.AtomicFiles;
import org.diffrep.io.Json;
import org.diffrep.report.LinePlot;
import org.diffrep.report.TextTable;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The outputs of a plan run: {@code summary.json} and {@code summary.csv} (one row per cell and tap),
 * and {@code report/index.html}, one self-contained page (figures inlined as base64 PNG, no scripts,
 * no network) with the table of every row, one plot per dataset and tap with the models' curves
 * overlaid, and links to each cell's probe JSON and figure; the plots are also written as PNG and SVG
 * under {@code report/figures/}.
 */
public final class PlanReport {

    /**
     * One row of the summary: a cell at one tap. Accuracies are at the plan's first label-noise level
     * (normally 0); {@code noisyBestAccuracy} and {@code labelNoiseDrop} at its last.
     *
     * @param peakInside    whether the peak sigma is inside the grid (not its first or last level)
     * @param labelNoiseDrop best accuracy at the first label-noise level minus at the last (null with one level)
     * @param meanActive    mean active channels per image at the peak sigma (with analyses.sparsity)
     * @param withinOverlap mean Jaccard overlap of active sets within classes, {@code betweenOverlap} between
     * @param saeTestFvu    held-out FVU of the tap's TopK SAE (with analyses.sae); {@code saeDeadFraction}: share of
     *                      latents never active on the train rows
     */
    public record Row(String model, String data, String input, String layer, String status, Double bestAccuracy,
                      Double peakSigma, Boolean peakInside, Double ensembleAccuracy, Double ensembleGain,
                      Double labelNoise, Double noisyBestAccuracy, Double labelNoiseDrop, Double pixelBaseline,
                      Double clusterNmi, Double clusterPurity, Double meanActive, Double withinOverlap,
                      Double betweenOverlap, Double saeTestFvu, Double saeDeadFraction, String store, String probeJson,
                      String figure, String clusterJson, String sparsityJson, String saeFile, String error) {
    }

    /** summary.json. */
    public record Summary(String plan, String created, double seconds, int cells, long failed,
                          Map<String, Long> computedStages, Map<String, Long> cachedStages, List<Row> rows) {
    }

    private PlanReport() {
    }

    /** The rows of a run, cells in plan order, taps in each cell's order. */
    public static List<Row> rows(PlanRunner.Result r) {
        List<Row> rows = new ArrayList<>();
        for (PlanRunner.CellOutcome o : r.cells()) {
            Plan.Cell c = o.cell();
            String store = o.storeKey() == null ? null : "stores/" + StageKeys.shortKey(o.storeKey());
            String probeDir = o.probeKey() == null || o.result() == null ? null : "probes/" + StageKeys.shortKey(o.probeKey());
            double[] noise = c.probe().labelNoise();
            for (String layer : c.layers()) {
                if (!o.ok() || o.result() == null) {
                    rows.add(new Row(c.model(), c.data(), c.input().id(), layer, "failed", null, null, null, null, null,
                            null, null, null, o.baseline(), null, null, null, null, null, null, null, store, null, null,
                            null, null, null, o.error()));
                    continue;
                }
                CellResult.Curve first = o.result().curve(layer, noise[0]);
                CellResult.Curve last = noise.length > 1 ? o.result().curve(layer, noise[noise.length - 1]) : null;
                boolean inside = first.best() > 0 && first.best() < first.sigmas().length - 1;
                PlanRunner.ClusterScore k = o.clusters().get(layer);
                PlanRunner.SparsityScore sp = o.sparsity().get(layer);
                PlanRunner.SaeScore sae = o.saes().get(layer);
                rows.add(new Row(c.model(), c.data(), c.input().id(), layer, "ok", first.bestAccuracy(),
                        first.bestSigma(), inside, first.ensembleAccuracy(), first.gain(),
                        last == null ? null : last.labelNoise(), last == null ? null : last.bestAccuracy(),
                        last == null ? null : first.bestAccuracy() - last.bestAccuracy(), o.baseline(),
                        k == null ? null : k.nmi(), k == null ? null : k.purity(),
                        sp == null ? null : sp.meanActive(), sp == null ? null : sp.withinOverlap(),
                        sp == null ? null : sp.betweenOverlap(), sae == null ? null : sae.testFvu(),
                        sae == null ? null : sae.deadFraction(), store,
                        probeDir + "/probe.json", probeDir + "/accuracy_vs_sigma.png", k == null ? null : k.json(),
                        sp == null ? null : sp.json(), sae == null ? null : sae.file(), null));
            }
        }
        return rows;
    }

    /** Writes summary.json, summary.csv and report/ into the run directory. */
    static void write(Plan plan, PlanRunner.Result r) {
        Path out = r.out();
        List<Row> rows = rows(r);
        Map<String, Long> computed = new LinkedHashMap<>(), cached = new LinkedHashMap<>();
        for (PlanRunner.StageKind k : PlanRunner.StageKind.values()) {
            computed.put(k.name().toLowerCase(Locale.ROOT), r.computed(k));
            cached.put(k.name().toLowerCase(Locale.ROOT), r.cached(k));
        }
        Json.write(out.resolve("summary.json"), new Summary(plan.file().toString(), Instant.now().toString(),
                r.seconds(), r.cells().size(), r.failed(), computed, cached, rows));
        AtomicFiles.writeString(out.resolve("summary.csv"), csv(rows));
        Path reportDir = out.resolve("report");
        Path figures = reportDir.resolve("figures");
        try {
            Files.createDirectories(figures);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> figureHtml = new ArrayList<>();
        for (String data : plan.data().keySet()) {
            for (String layer : layers(r, data)) {
                String name = data + "-" + layer;
                LinePlot.Panel panel = panel(r, data, layer);
                if (panel == null) {
                    continue;
                }
                LinePlot.write(figures.resolve(name), List.of(panel), 760, 420);
                figureHtml.add("<figure><img alt=\"" + esc(data + " " + layer) + "\" src=\"data:image/png;base64,"
                        + base64(figures.resolve(name + ".png")) + "\"><figcaption>" + esc(data) + ", tap "
                        + esc(layer) + " (<a href=\"figures/" + esc(name) + ".svg\">SVG</a>)</figcaption></figure>");
            }
        }
        AtomicFiles.writeString(reportDir.resolve("index.html"), html(plan, r, rows, figureHtml));
    }

    /** The table printed at the end of a run. */
    public static void print(PrintStream out, PlanRunner.Result r) {
        List<Row> rows = rows(r);
        boolean clusters = rows.stream().anyMatch(x -> x.clusterNmi() != null);
        boolean sparsity = rows.stream().anyMatch(x -> x.meanActive() != null);
        boolean sae = rows.stream().anyMatch(x -> x.saeFile() != null);
        List<String> head = new ArrayList<>(List.of("cell", "tap", "best acc", "peak sigma", "ensemble",
                "label-noise drop", "pixels"));
        if (clusters) head.add("k-means NMI");
        if (sparsity) head.addAll(List.of("active", "within J", "between J"));
        if (sae) head.addAll(List.of("SAE FVU", "dead"));
        head.add("status");
        TextTable t = new TextTable(head.toArray(String[]::new));
        for (Row row : rows) {
            List<Object> cells = new ArrayList<>();
            cells.addAll(List.of(row.model() + "/" + row.data() + "/" + row.input(), row.layer(), num(row.bestAccuracy()),
                    row.peakSigma() == null ? "" : TextTable.num(row.peakSigma(), 3)
                            + (Boolean.TRUE.equals(row.peakInside()) ? "" : " (edge)"),
                    row.ensembleGain() == null ? "" : num(row.ensembleAccuracy())
                            + String.format(Locale.ROOT, " (%+.2f)", 100 * row.ensembleGain()),
                    row.labelNoiseDrop() == null ? "" : String.format(Locale.ROOT, "%+.2f", -100 * row.labelNoiseDrop()),
                    num(row.pixelBaseline())));
            if (clusters) {
                cells.add(num(row.clusterNmi()));
            }
            if (sparsity) {
                cells.addAll(List.of(num(row.meanActive()), num(row.withinOverlap()), num(row.betweenOverlap())));
            }
            if (sae) {
                cells.addAll(List.of(num(row.saeTestFvu()), num(row.saeDeadFraction())));
            }
            cells.add(row.error() == null ? row.status() : "failed: " + row.error());
            t.row(cells.toArray());
        }
        t.print(out);
    }

    private static Set<String> layers(PlanRunner.Result r, String data) {
        Set<String> out = new LinkedHashSet<>();
        r.cells().stream().filter(o -> o.cell().data().equals(data)).forEach(o -> out.addAll(o.cell().layers()));
        return out;
    }

    private static LinePlot.Panel panel(PlanRunner.Result r, String data, String layer) {
        List<LinePlot.Series> series = new ArrayList<>();
        boolean bothInputs = r.cells().stream().map(o -> o.cell().input()).distinct().count() > 1;
        double lo = Double.POSITIVE_INFINITY, hi = 0;
        Double baseline = null;
        for (PlanRunner.CellOutcome o : r.cells()) {
            if (!o.cell().data().equals(data) || o.result() == null) {
                continue;
            }
            if (o.baseline() != null) {
                baseline = o.baseline();
            }
            for (CellResult.Curve c : o.result().curves()) {
                if (!c.layer().equals(layer)) {
                    continue;
                }
                String name = o.cell().model() + (bothInputs ? " " + o.cell().input().id() : "")
                        + (c.labelNoise() == 0 ? "" : String.format(Locale.ROOT, ", %.0f%% labels flipped", 100 * c.labelNoise()));
                series.add(LinePlot.Series.of(name, c.sigmas(), c.accuracies()));
                lo = Math.min(lo, c.sigmas()[0]);
                hi = Math.max(hi, c.sigmas()[c.sigmas().length - 1]);
            }
        }
        if (series.isEmpty()) {
            return null;
        }
        if (baseline != null) {
            series.add(LinePlot.Series.of("pixels (linear)", new double[]{lo, hi}, new double[]{baseline, baseline}));
        }
        return new LinePlot.Panel(data + ", tap " + layer + ": probe accuracy against sigma", "sigma",
                "test accuracy", true, false, series);
    }

    private static String csv(List<Row> rows) {
        StringBuilder s = new StringBuilder("model,data,input,layer,status,best_accuracy,peak_sigma,peak_inside,"
                + "ensemble_accuracy,ensemble_gain,label_noise,noisy_best_accuracy,label_noise_drop,pixel_baseline,"
                + "cluster_nmi,cluster_purity,mean_active,within_overlap,between_overlap,sae_test_fvu,sae_dead_fraction,"
                + "store,probe_json,figure,cluster_json,sparsity_json,sae_file,error\n");
        for (Row r : rows) {
            Object[] v = {r.model(), r.data(), r.input(), r.layer(), r.status(), r.bestAccuracy(), r.peakSigma(),
                    r.peakInside(), r.ensembleAccuracy(), r.ensembleGain(), r.labelNoise(), r.noisyBestAccuracy(),
                    r.labelNoiseDrop(), r.pixelBaseline(), r.clusterNmi(), r.clusterPurity(), r.meanActive(),
                    r.withinOverlap(), r.betweenOverlap(), r.saeTestFvu(), r.saeDeadFraction(), r.store(), r.probeJson(),
                    r.figure(), r.clusterJson(), r.sparsityJson(), r.saeFile(), r.error()};
            for (int i = 0; i < v.length; i++) {
                s.append(i == 0 ? "" : ",").append(csvField(v[i]));
            }
            s.append('\n');
        }
        return s.toString();
    }

    private static String csvField(Object v) {
        if (v == null) {
            return "";
        }
        String t = v instanceof Double d ? String.format(Locale.ROOT, "%.6g", d) : v.toString();
        return t.contains(",") || t.contains("\"") || t.contains("\n") ? "\"" + t.replace("\"", "\"\"") + "\"" : t;
    }

    private static String html(Plan plan, PlanRunner.Result r, List<Row> rows, List<String> figures) {
        boolean clusters = rows.stream().anyMatch(x -> x.clusterNmi() != null);
        boolean sparsity = rows.stream().anyMatch(x -> x.meanActive() != null);
        boolean sae = rows.stream().anyMatch(x -> x.saeFile() != null);
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<title>diffrep plan: ").append(esc(plan.file().getFileName().toString())).append("</title>\n<style>"
                + "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
                + "table{border-collapse:collapse;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}"
                + "th{background:#f2f2f2}td.l{text-align:left}tr.failed td{background:#fde8e8}"
                + "figure{display:inline-block;margin:1em 1em 1em 0}img{max-width:100%;border:1px solid #ddd}"
                + ".edge{color:#b35900}.err{color:#a00;text-align:left;max-width:40em}"
                + "</style></head><body>\n");
        h.append("<h1>Plan ").append(esc(plan.file().toString())).append("</h1>\n<p>")
                .append(r.cells().size()).append(" cells, ").append(r.failed()).append(" failed; ")
                .append(String.format(Locale.ROOT, "%.1f s", r.seconds())).append("; stages computed: ");
        List<String> parts = new ArrayList<>();
        for (PlanRunner.StageKind k : PlanRunner.StageKind.values()) {
            parts.add(k.name().toLowerCase(Locale.ROOT) + " " + r.computed(k) + " (cached " + r.cached(k) + ")");
        }
        h.append(esc(String.join(", ", parts))).append(". <a href=\"../summary.json\">summary.json</a>, "
                + "<a href=\"../summary.csv\">summary.csv</a>.</p>\n");
        h.append("<h2>Cells</h2>\n<p>Accuracies are test accuracies of the probe at the plan's first label-noise level;"
                + " the peak is the best sigma (<span class=\"edge\">edge</span>: at an end of the grid, so the grid may"
                + " be too narrow); the ensemble averages the logits of the probes at the peak and its neighbours;"
                + " the label-noise drop is the best accuracy lost at the last label-noise level; pixels is the same"
                + " probe on raw pixels of the same images" + (clusters ? "; k-means NMI and purity are those of k-means"
                + " on the tap at its peak sigma" : "") + (sparsity ? "; active channels (mean per image) and the"
                + " Jaccard overlap of active sets within and between classes are at the peak sigma" : "")
                + (sae ? "; SAE FVU is the held-out FVU of a TopK SAE trained on the tap at its peak sigma, dead the"
                + " share of its latents never active on the train rows" : "") + ".</p>\n<table>\n<tr><th>model</th><th>data</th><th>input</th>"
                + "<th>tap</th><th>best accuracy</th><th>peak sigma</th><th>ensemble</th><th>ensemble gain</th>"
                + "<th>label-noise drop</th><th>pixels</th>" + (clusters ? "<th>k-means NMI</th><th>purity</th>" : "")
                + (sparsity ? "<th>active channels</th><th>within J</th><th>between J</th>" : "")
                + (sae ? "<th>SAE FVU</th><th>dead</th>" : "")
                + "<th>files</th><th>status</th></tr>\n");
        for (Row row : rows) {
            h.append(row.error() == null ? "<tr>" : "<tr class=\"failed\">");
            for (String s : new String[]{row.model(), row.data(), row.input(), row.layer()}) {
                h.append("<td class=\"l\">").append(esc(s)).append("</td>");
            }
            h.append("<td>").append(num(row.bestAccuracy())).append("</td><td>");
            if (row.peakSigma() != null) {
                h.append(TextTable.num(row.peakSigma(), 3));
                if (!row.peakInside()) {
                    h.append(" <span class=\"edge\">edge</span>");
                }
            }
            h.append("</td><td>").append(num(row.ensembleAccuracy())).append("</td><td>")
                    .append(row.ensembleGain() == null ? "" : String.format(Locale.ROOT, "%+.2f pt", 100 * row.ensembleGain()))
                    .append("</td><td>")
                    .append(row.labelNoiseDrop() == null ? "" : String.format(Locale.ROOT, "%.2f pt at %.0f%%",
                            100 * row.labelNoiseDrop(), 100 * row.labelNoise()))
                    .append("</td><td>").append(num(row.pixelBaseline())).append("</td>");
            if (clusters) {
                h.append("<td>").append(num(row.clusterNmi())).append("</td><td>").append(num(row.clusterPurity())).append("</td>");
            }
            if (sparsity) {
                h.append("<td>").append(num(row.meanActive())).append("</td><td>").append(num(row.withinOverlap()))
                        .append("</td><td>").append(num(row.betweenOverlap())).append("</td>");
            }
            if (sae) {
                h.append("<td>").append(num(row.saeTestFvu())).append("</td><td>").append(num(row.saeDeadFraction()))
                        .append("</td>");
            }
            h.append("<td class=\"l\">");
            if (row.probeJson() != null) {
                h.append("<a href=\"../").append(esc(row.probeJson())).append("\">JSON</a> <a href=\"../")
                        .append(esc(row.figure())).append("\">figure</a>");
                if (row.clusterJson() != null) {
                    h.append(" <a href=\"../").append(esc(row.clusterJson())).append("\">k-means</a>");
                }
                if (row.sparsityJson() != null) {
                    h.append(" <a href=\"../").append(esc(row.sparsityJson())).append("\">sparsity</a>");
                }
                if (row.saeFile() != null) {
                    h.append(" <a href=\"../").append(esc(row.saeFile())).append("\">SAE</a>");
                }
            }
            h.append("</td>");
            h.append(row.error() == null ? "<td class=\"l\">ok</td>" : "<td class=\"err\">failed: " + esc(row.error()) + "</td>");
            h.append("</tr>\n");
        }
        h.append("</table>\n<h2>Accuracy against sigma</h2>\n");
        if (figures.isEmpty()) {
            h.append("<p>No cell finished.</p>\n");
        }
        figures.forEach(f -> h.append(f).append('\n'));
        h.append("<p><small>diffrep run; inputs: ")
                .append(esc(String.join(", ", plan.cells().stream().map(c -> c.input()).distinct()
                        .map(InputMode::id).toList())))
                .append("</small></p>\n</body></html>\n");
        return h.toString();
    }

    private static String num(Double d) {
        return d == null ? "" : TextTable.num(d, 4);
    }

    private static String base64(Path png) {
        try {
            return Base64.getEncoder().encodeToString(Files.readAllBytes(png));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
