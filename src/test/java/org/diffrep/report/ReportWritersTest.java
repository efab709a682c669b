package org.diffrep.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportWritersTest {

    @Test
    void tableAlignsColumns() {
        String text = new TextTable("t", "sigma", "acc").row(1, "0.010", "0.95").row(140, "0.700", "1.00").render();
        assertEquals("""
                t    sigma   acc
                ----------------
                1    0.010  0.95
                140  0.700  1.00
                """, text);
        assertThrows(IllegalArgumentException.class, () -> new TextTable("a", "b").row(1));
        assertEquals("-", TextTable.num(Double.NaN, 3));
        assertEquals("0.125", TextTable.num(0.125, 3));
    }

    @Test
    void plotWritesPngAndSvgWithLogX(@TempDir Path dir) throws Exception {
        double[] x = {0.01, 0.1, 1, 10};
        LinePlot.Panel a = new LinePlot.Panel("accuracy", "sigma", "accuracy", true, false,
                List.of(new LinePlot.Series("probe", x, new double[]{0.5, 0.8, 0.9, 0.4}, new double[]{0.01, 0.02, 0.01, 0.03})));
        LinePlot.Panel b = new LinePlot.Panel("csnr", "sigma", "CSNR", true, true,
                List.of(LinePlot.Series.of("analytic", x, new double[]{2, 5, 9, 1.5})));
        LinePlot.write(dir.resolve("plot"), List.of(a, b), 400, 300);
        byte[] png = Files.readAllBytes(dir.resolve("plot.png"));
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
        String svg = Files.readString(dir.resolve("plot.svg"));
        assertTrue(svg.contains("<svg"), "svg root element");
        assertTrue(svg.contains("analytic") || svg.contains("<path"), "svg has drawing content");
        assertFalse(Files.exists(dir.resolve("plot.png.tmp")));
    }
}
