package org.diffrep.analysis;

import org.diffrep.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The figures of {@code diffrep sparsity}: active channels against sigma, and the class overlap heatmap. */
public final class SparsityPlots {

    private SparsityPlots() {
    }

    /**
     * Mean active-channel count (with +- one standard deviation as error bars) against sigma on a log
     * axis, and the within/between-class overlap on a second chart; PNG and SVG of each.
     * Non-positive sigmas cannot sit on a log axis and are left out of the figure (not of the JSON).
     */
    public static void write(Path dir, List<ChannelSparsity> perSigma, String title) {
        List<Double> s = new ArrayList<>(), mean = new ArrayList<>(), std = new ArrayList<>();
        List<Double> within = new ArrayList<>(), between = new ArrayList<>();
        for (ChannelSparsity c : perSigma) {
            if (c.sigma() > 0) {
                s.add((double) c.sigma());
                mean.add(c.meanActive());
                std.add(c.stdActive());
                within.add(c.withinOverlap());
                between.add(c.betweenOverlap());
            }
        }
        if (s.isEmpty()) {
            return;
        }
        XYChart counts = new XYChartBuilder().width(640).height(420).title(title)
                .xAxisTitle("sigma").yAxisTitle("active channels per image").build();
        counts.getStyler().setXAxisLogarithmic(true);
        counts.getStyler().setLegendVisible(false);
        XYSeries cs = counts.addSeries("mean active channels", s, mean, std);
        cs.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        save(counts, dir.resolve("active_channels"));

        XYChart overlap = new XYChartBuilder().width(640).height(420).title("Jaccard overlap of active sets")
                .xAxisTitle("sigma").yAxisTitle("mean Jaccard index").build();
        overlap.getStyler().setXAxisLogarithmic(true);
        overlap.addSeries("within class", s, within);
        overlap.addSeries("between classes", s, between);
        save(overlap, dir.resolve("overlap_vs_sigma"));
    }

    /** The class x class overlap matrix of one sigma as a heatmap PNG. */
    public static void writeHeatmap(Path png, ChannelSparsity c) {
        int k = c.classes().length;
        List<Number[]> cells = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int a = 0; a < k; a++) {
            labels.add(Long.toString(c.classes()[a]));
            for (int b = 0; b < k; b++) {
                // rounded so the legend's scale reads as two decimals
                double v = Double.isNaN(c.overlap()[a][b]) ? 0 : c.overlap()[a][b];
                cells.add(new Number[]{a, b, Math.round(v * 100) / 100.0});
            }
        }
        HeatMapChart chart = new HeatMapChartBuilder().width(560).height(500)
                .title(String.format("Jaccard overlap by class, sigma %.4g", c.sigma()))
                .xAxisTitle("class").yAxisTitle("class").build();
        chart.getStyler().setShowValue(false);
        chart.getStyler().setPlotContentSize(1.0);
        chart.addSeries("overlap", labels, labels, cells);
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /** PNG and SVG of a chart at {@code base}.png / .svg, each written whole or not at all. */
    static void save(XYChart chart, Path base) {
        String name = base.getFileName().toString();
        AtomicFiles.write(base.resolveSibling(name + ".png"),
                out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
        AtomicFiles.write(base.resolveSibling(name + ".svg"),
                out -> VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG));
    }
}
