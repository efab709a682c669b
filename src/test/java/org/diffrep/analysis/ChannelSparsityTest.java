package org.diffrep.analysis;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChannelSparsityTest {

    @Test
    void thresholdAndMassRules() {
        float[] v = {0.5f, -1f, 3f, 0.1f, 1.4f};
        assertEquals(BitSet.valueOf(new long[]{0b10101}), ActiveChannels.above(0.2).of(v));
        // positive mass 5.0; 90% = 4.5: 3 + 1.4 = 4.4 < 4.5, so + 0.5 -> {2, 4, 0}
        assertEquals(BitSet.valueOf(new long[]{0b10101}), ActiveChannels.holdingMass(0.9).of(v));
        // 60% = 3.0: channel 2 alone holds it
        assertEquals(BitSet.valueOf(new long[]{0b00100}), ActiveChannels.holdingMass(0.6).of(v));
        assertEquals(4, ActiveChannels.holdingMass(1.0).of(v).cardinality());
        assertEquals(0, ActiveChannels.holdingMass(0.9).of(new float[]{-1, 0}).cardinality());
    }

    @Test
    void jaccardByHand() {
        BitSet a = BitSet.valueOf(new long[]{0b0111});
        BitSet b = BitSet.valueOf(new long[]{0b1100});
        assertEquals(1.0 / 4, ActiveChannels.jaccard(a, b), 1e-12);
        assertEquals(1.0, ActiveChannels.jaccard(new BitSet(), new BitSet()), 0);
    }

    @Test
    void classMatrixOfATinyCase() {
        float[][] f = {{1, 1, 0}, {1, 1, 0}, {0, 0, 1}, {0, 1, 1}};
        ChannelSparsity s = ChannelSparsity.measure(1f, f, new long[]{0, 0, 1, 1}, ActiveChannels.above(0.5), 10, 0);
        assertEquals(1.0, s.overlap()[0][0], 1e-12);
        assertEquals(0.5, s.overlap()[1][1], 1e-12);
        // between: J({0,1},{2}) = 0 twice, J({0,1},{1,2}) = 1/3 twice
        assertEquals(1.0 / 6, s.overlap()[0][1], 1e-12);
        assertEquals(7.0 / 4, s.meanActive(), 1e-12);
        assertEquals(0.75, s.withinOverlap(), 1e-12);
    }

    /** On real digits (pixels as channels): strokes of one digit class overlap more than across classes. */
    @Test
    void mnistActiveSetsOverlapMoreWithinClasses() throws Exception {
        MnistPixels m = MnistPixels.load(2000);
        float[][] rows = new float[m.count()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = java.util.Arrays.copyOfRange(m.pixels(), i * MnistPixels.D, (i + 1) * MnistPixels.D);
        }
        ChannelSparsity s = ChannelSparsity.measure(0.5f, rows, m.labels(), ActiveChannels.above(0.5), 100, 1);
        assertTrue(s.meanActive() > 80 && s.meanActive() < 200, "mean active pixels " + s.meanActive());
        assertTrue(s.withinOverlap() > s.betweenOverlap() * 1.3,
                "within " + s.withinOverlap() + " between " + s.betweenOverlap());
        // ones are thin: fewest active pixels of all classes
        int one = 1;
        for (int c = 0; c < 10; c++) {
            assertTrue(s.meanActiveByClass()[one] <= s.meanActiveByClass()[c]);
        }
    }

    @Test
    void badRulesAreRefused() {
        var e = assertThrows(InvalidInputException.class, () -> new ActiveChannels(0.1, 0.9));
        assertEquals("give exactly one of threshold and mass", e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> ActiveChannels.holdingMass(1.5));
        assertEquals("mass must be in (0, 1], got 1.5", e.getMessage());
        e = assertThrows(InvalidInputException.class,
                () -> ActiveChannels.holdingMass(0.9).of(new float[]{1, Float.NaN}));
        assertEquals("features contain NaN", e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> ChannelSparsity.measure(0.5f,
                new float[][]{{1, 2}, {Float.NaN, 1}}, new long[]{0, 1}, ActiveChannels.above(0.1), 10, 0));
        assertEquals("sigma 0.5, row 1: features contain NaN", e.getMessage());
    }
}
