package org.diffrep.extract;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A layer named enc.0+enc.1 stores its parts' pooled rows side by side, for every built-in pooling. */
class ConcatTapsTest {

    @TempDir
    Path tmp;

    private FeatureStore extract(String name, Pooling pool, int topk) {
        ExtractConfig cfg = ExtractFixture.config(tmp.resolve(name)).layers(List.of("enc.0", "enc.1", "enc.0+enc.1"))
                .sigmas(0.1f, 1.0f).limit(40).pool(pool).topk(topk).build();
        new Extractor(cfg).log(null).run(ExtractFixture.unet(), "unet-seed-99", ExtractFixture.mnist());
        return FeatureStore.open(tmp.resolve(name));
    }

    private static void assertSideBySide(float[][] a, float[][] b, float[][] joined) {
        assertEquals(a.length, joined.length);
        for (int i = 0; i < a.length; i++) {
            float[] expected = new float[a[i].length + b[i].length];
            System.arraycopy(a[i], 0, expected, 0, a[i].length);
            System.arraycopy(b[i], 0, expected, a[i].length, b[i].length);
            assertArrayEquals(expected, joined[i], "row " + i);
        }
    }

    @Test
    void meansMaximaAndMapsOfThePartsSideBySide() {
        FeatureStore mean = extract("mean", Pooling.MEAN_MAX, 0);
        for (int j = 0; j < 2; j++) {
            assertSideBySide(mean.features("enc.0", j), mean.features("enc.1", j), mean.features("enc.0+enc.1", j));
            assertSideBySide(mean.featuresMax("enc.0", j), mean.featuresMax("enc.1", j), mean.featuresMax("enc.0+enc.1", j));
        }
        assertEquals(8 + 16, mean.features("enc.0+enc.1", 0)[0].length);
        FeatureStore none = extract("none", Pooling.NONE, 0);
        assertSideBySide(none.features("enc.0", 1), none.features("enc.1", 1), none.features("enc.0+enc.1", 1));
        assertEquals(8 * 28 * 28 + 16 * 14 * 14, none.features("enc.0+enc.1", 1)[0].length);
        FeatureStore topk = extract("topk", Pooling.MEAN, 6);
        assertTrue(topk.files().contains(StoreLayout.topkIndices("enc.0+enc.1", 0)), topk.files().toString());
    }

    @Test
    void badConcatenationsAreNamed() {
        InvalidInputException unknown = assertThrows(InvalidInputException.class, () -> new Extractor(
                ExtractFixture.config(tmp.resolve("u")).layers(List.of("enc.0+nope")).build()).log(null)
                .run(ExtractFixture.unet(), "u", ExtractFixture.mnist()));
        assertTrue(unknown.getMessage().contains("'nope' in 'enc.0+nope'"), unknown.getMessage());
        InvalidInputException twice = assertThrows(InvalidInputException.class, () -> new Extractor(
                ExtractFixture.config(tmp.resolve("t")).layers(List.of("enc.0+enc.0")).build()).log(null)
                .run(ExtractFixture.unet(), "u", ExtractFixture.mnist()));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
    }
}
