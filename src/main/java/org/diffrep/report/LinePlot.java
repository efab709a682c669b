package org.diffrep.report;

import de.erichseifert.vectorgraphics2d.Document;
import de.erichseifert.vectorgraphics2d.Processors;
import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import org.diffrep.io.AtomicFiles;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * Line plots with markers, written as PNG and SVG side by side: one or more panels (each its own axes)
 * stacked top to bottom in one figure. X may be log-scaled (noise levels), Y too.
 */
public final class LinePlot {

    /** One line: points (x, y), optional symmetric error bars (null for none). */
    public record Series(String name, double[] x, double[] y, double[] errors) {
        public Series {
            if (x.length != y.length || (errors != null && errors.length != y.length)) {
                throw new IllegalArgumentException("series '" + name + "': x, y and errors must have equal lengths");
            }
        }

        public static Series of(String name, double[] x, double[] y) {
            return new Series(name, x, y, null);
        }
    }

    /** One set of axes. */
    public record Panel(String title, String xLabel, String yLabel, boolean logX, boolean logY, List<Series> series) {
    }

    public static final int DEFAULT_WIDTH = 800;
    public static final int DEFAULT_HEIGHT = 450;

    private LinePlot() {
    }

    /** Writes {@code base}.png and {@code base}.svg (base without extension), panels stacked vertically. */
    public static void write(Path base, List<Panel> panels) {
        write(base, panels, DEFAULT_WIDTH, DEFAULT_HEIGHT);
    }

    /** As {@link #write(Path, List)} with the size of one panel in pixels. */
    public static void write(Path base, List<Panel> panels, int width, int height) {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("a plot needs at least one panel");
        }
        List<XYChart> charts = panels.stream().map(p -> chart(p, width, height)).toList();
        String name = base.getFileName().toString();
        AtomicFiles.write(base.resolveSibling(name + ".png"), out -> {
            BufferedImage img = new BufferedImage(width, height * charts.size(), BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height * charts.size());
            paintAll(g, charts, width, height);
            g.dispose();
            ImageIO.write(img, "png", out);
        });
        AtomicFiles.write(base.resolveSibling(name + ".svg"), out -> {
            VectorGraphics2D g = new VectorGraphics2D();
            paintAll(g, charts, width, height);
            Document doc = Processors.get("svg").getDocument(g.getCommands(),
                    new PageSize(0, 0, width, (double) height * charts.size()));
            doc.writeTo(out);
        });
    }

    private static void paintAll(Graphics2D g, List<XYChart> charts, int width, int height) {
        for (int i = 0; i < charts.size(); i++) {
            Graphics2D gi = (Graphics2D) g.create(0, i * height, width, height);
            charts.get(i).paint(gi, width, height);
            gi.dispose();
        }
    }

    private static XYChart chart(Panel p, int width, int height) {
        XYChart chart = new XYChartBuilder().width(width).height(height).title(p.title())
                .xAxisTitle(p.xLabel()).yAxisTitle(p.yLabel()).build();
        chart.getStyler().setXAxisLogarithmic(p.logX());
        chart.getStyler().setYAxisLogarithmic(p.logY());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setMarkerSize(6);
        for (Series s : p.series()) {
            XYSeries xy = s.errors() == null ? chart.addSeries(s.name(), s.x(), s.y())
                    : chart.addSeries(s.name(), s.x(), s.y(), s.errors());
            xy.setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }
}
