package org.diffrep.study;

import org.diffrep.io.Json;
import org.diffrep.probe.ProbeResult;
import org.diffrep.report.LinePlot;
import org.diffrep.report.TextTable;
import org.diffrep.study.ProbeStudy;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How a probe study is shown: a table (sigma down, one column per layer and label-noise level, the
 * ensemble last), the JSON of the whole report, and accuracy against log sigma with the best
 * sigma marked and each ensemble as a horizontal line.
 */
public final class ProbeStudyReport {

    private ProbeStudyReport() {
    }

    /** Writes {@code name}.json, {@code name}.png/.svg ({@code plotName}) into {@code dir}. */
    public static void write(Path dir, String jsonName, String plotName, Object json, List<Titled> studies) {
        Json.write(dir.resolve(jsonName), json);
        List<LinePlot.Panel> panels = new ArrayList<>();
        for (Titled t : studies) {
            panels.add(panel(t.title(), t.report()));
            if (!t.report().csnr().isEmpty()) {
                panels.add(csnrPanel(t.title(), t.report()));
            }
        }
        LinePlot.write(dir.resolve(plotName), panels);
    }

    /** A study with the title of its plot panel (e.g. "clean input"). */
    public record Titled(String title, ProbeStudy.Report report) {
    }

    /** The table of one study. */
    public static TextTable table(ProbeStudy.Report r) {
        List<String> header = new ArrayList<>();
        header.add("sigma");
        for (ProbeStudy.Curve c : r.curves()) {
            header.add(label(c));
        }
        for (ProbeStudy.LayerCsnr c : r.csnr()) {
            header.add("CSNR " + c.layer());
        }
        TextTable t = new TextTable(header.toArray(String[]::new));
        int rows = r.curves().isEmpty() ? 0 : r.curves().get(0).points().size();
        for (int i = 0; i < rows; i++) {
            List<Object> row = new ArrayList<>();
            row.add(TextTable.num(r.curves().get(0).points().get(i).sigma(), 4));
            for (ProbeStudy.Curve c : r.curves()) {
                String mark = c.ensemble().bestSigmaIndex() == i ? " *" : "";
                row.add(withInterval(c.points().get(i).result()) + mark);
            }
            for (ProbeStudy.LayerCsnr c : r.csnr()) {
                row.add(TextTable.num(c.ratioOfMeans()[i], 3));
            }
            t.row(row.toArray());
        }
        List<Object> ens = new ArrayList<>();
        ens.add("ensemble");
        for (ProbeStudy.Curve c : r.curves()) {
            ens.add(withInterval(c.ensemble().result())
                    + String.format(Locale.ROOT, " (%+.2f)", 100 * c.ensemble().gain()));
        }
        for (int i = 0; i < r.csnr().size(); i++) {
            ens.add("");
        }
        t.row(ens.toArray());
        return t;
    }

    /** Prints the table with a legend line. */
    public static void print(PrintStream out, String title, ProbeStudy.Report r) {
        out.printf("%s: %s probe, %d classes, %d train / %d test, ensemble of best sigma +/- %d%n", title, r.probe(),
                r.numClasses(), r.trainCount(), r.testCount(), r.ensembleWidth());
        table(r).print(out);
        PixelBaseline.Result px = r.pixelBaseline();
        if (px != null) {
            out.println(px.result() != null ? "raw pixels, linear probe, same split: " + withInterval(px.result())
                    : "raw pixels: no baseline (" + px.skipped() + ")");
        }
        out.println("(* best sigma; ensemble gain over it in points; in brackets the 95% Wilson interval over the "
                + r.testCount() + " test images" + (r.csnr().isEmpty() ? ")" : "; CSNR: ratio of means on the test rows,"
                + " class bases of rank " + r.csnr().get(0).rank() + " from the train rows)"));
    }

    /** "0.9120 [0.894, 0.928]": the accuracy and its 95% interval from the test set's size. */
    static String withInterval(ProbeResult r) {
        double[] ci = r.accuracyInterval95();
        return TextTable.num(r.accuracy(), 4) + String.format(Locale.ROOT, " [%.3f, %.3f]", ci[0], ci[1]);
    }

    private static LinePlot.Panel panel(String title, ProbeStudy.Report r) {
        List<LinePlot.Series> series = new ArrayList<>();
        for (ProbeStudy.Curve c : r.curves()) {
            double[] x = c.sigmas();
            series.add(LinePlot.Series.of(label(c), x, c.accuracies()));
            series.add(LinePlot.Series.of(label(c) + " best", new double[]{c.ensemble().bestSigma()},
                    new double[]{c.ensemble().bestAccuracy()}));
            double acc = c.ensemble().result().accuracy();
            series.add(LinePlot.Series.of(label(c) + " ensemble", new double[]{x[0], x[x.length - 1]},
                    new double[]{acc, acc}));
        }
        return new LinePlot.Panel(title + " (" + r.probe() + " probe)", "sigma", "test accuracy", true, false, series);
    }

    private static LinePlot.Panel csnrPanel(String title, ProbeStudy.Report r) {
        List<LinePlot.Series> series = new ArrayList<>();
        double[] x = r.curves().get(0).sigmas();
        for (ProbeStudy.LayerCsnr c : r.csnr()) {
            series.add(LinePlot.Series.of(c.layer(), x, c.ratioOfMeans()));
        }
        return new LinePlot.Panel(title + ": CSNR of the features (ratio of means, test rows)", "sigma", "CSNR", true,
                false, series);
    }

    private static String label(ProbeStudy.Curve c) {
        return c.labelNoise() == 0 ? c.layer() : String.format(Locale.ROOT, "%s noise %.0f%%", c.layer(), 100 * c.labelNoise());
    }
}
