package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pooling on a grid (mean:GHxGW) against the cell means computed by hand from the stored full maps. */
class GridMeanReductionTest {

    @TempDir
    Path tmp;

    @Test
    void cellMeansOfTheMapsChannelMajor() {
        ExtractConfig.Builder b = ExtractFixture.config(tmp).layers(List.of("enc.1")).sigmas(0.5f).limit(24);
        new Extractor(b.out(tmp.resolve("maps")).pool(Pooling.NONE).build()).log(null)
                .run(ExtractFixture.unet(), "u", ExtractFixture.mnist());
        new Extractor(b.out(tmp.resolve("grid")).pool(Pooling.MEAN).reduce(Map.of("enc.1", "mean:2x3")).build()).log(null)
                .run(ExtractFixture.unet(), "u", ExtractFixture.mnist());
        float[][] maps = FeatureStore.open(tmp.resolve("maps")).features("enc.1", 0); // [16 x 14 x 14]
        FeatureStore grid = FeatureStore.open(tmp.resolve("grid"));
        float[][] cells = grid.features("enc.1", 0);
        assertEquals(16 * 2 * 3, cells[0].length);
        int h = 14, w = 14;
        for (int i = 0; i < maps.length; i++) {
            for (int c = 0; c < 16; c++) {
                for (int gi = 0; gi < 2; gi++) {
                    for (int gj = 0; gj < 3; gj++) {
                        // adaptive pooling cells: [floor(g*H/G), ceil((g+1)*H/G))
                        int y0 = gi * h / 2, y1 = (int) Math.ceil((gi + 1) * h / 2.0);
                        int x0 = gj * w / 3, x1 = (int) Math.ceil((gj + 1) * w / 3.0);
                        double sum = 0;
                        for (int y = y0; y < y1; y++) {
                            for (int x = x0; x < x1; x++) {
                                sum += maps[i][c * h * w + y * w + x];
                            }
                        }
                        double mean = sum / ((y1 - y0) * (x1 - x0));
                        assertEquals(mean, cells[i][c * 6 + gi * 3 + gj], 1e-5, "row " + i + " channel " + c);
                    }
                }
            }
        }
        assertTrue(grid.manifest().toString().contains("mean:2x3") || grid.settings().reductionOf("enc.1").equals("mean:2x3"));
    }

    @Test
    void namesAndLimits() {
        assertEquals(new GridMeanReduction(2, 2), GridMeanReduction.parse("mean:2x2"));
        assertNull(GridMeanReduction.parse("mean"));
        assertThrows(IllegalArgumentException.class, () -> GridMeanReduction.parse("mean:0x2"));
        assertThrows(IllegalArgumentException.class, () -> new GridMeanReduction(20, 20).rowLength(List.of(8L, 14L, 14L)));
        InvalidInputException tooFine = assertThrows(InvalidInputException.class, () -> new Extractor(
                ExtractFixture.config(tmp.resolve("x")).layers(List.of("enc.1")).reduce(Map.of("enc.1", "mean:20x20")).build())
                .log(null).run(ExtractFixture.unet(), "u", ExtractFixture.mnist()));
        assertTrue(tooFine.getMessage().contains("20x20"), tooFine.getMessage());
    }
}
