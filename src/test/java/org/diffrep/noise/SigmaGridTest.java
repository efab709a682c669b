package org.diffrep.noise;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SigmaGridTest {

    @Test
    void defaultGrid() {
        SigmaGrid g = SigmaGrid.defaults();
        assertEquals(16, g.size());
        assertEquals(0.002, g.sigma(0));
        assertEquals(80, g.sigma(15));
        assertEquals(0.281, g.sigma(7));
        // the written-out levels are log:0.002,80,16 to 3 significant digits
        double[] log = SigmaGrid.parse("log:0.002,80,16").sigmas();
        for (int i = 0; i < g.size(); i++) {
            assertEquals(log[i], g.sigma(i), 0.005 * log[i], "level " + i);
        }
    }

    @Test
    void listEdmAndLogForms() {
        assertArrayEquals(new double[]{0.1, 0.5, 1}, SigmaGrid.parse(" 0.1, 0.5,1 ").sigmas());
        SigmaGrid edm = SigmaGrid.parse("edm:5");
        assertEquals(0.002, edm.sigma(0), 1e-15);
        assertEquals(80, edm.sigma(4), 1e-12);
        assertArrayEquals(EdmSchedule.DEFAULT.levels(5), edm.sigmas());
        SigmaGrid edm2 = SigmaGrid.parse("edm:4,0.01,10");
        assertEquals(0.01, edm2.sigma(0), 1e-15);
        assertEquals(10, edm2.sigma(3), 1e-12);
        SigmaGrid log = SigmaGrid.parse("log:0.01,100,5");
        assertArrayEquals(new double[]{0.01, 0.1, 1, 10, 100}, log.sigmas(), 1e-12);
        assertEquals(1 / Math.sqrt(2), SigmaGrid.parse("1").vpInputScales()[0], 1e-15);
    }

    @Test
    void badGridsNameTheProblem() {
        assertMessage("a number", "0.1,abc", "sigmas 0.1,abc: expected a number, got 'abc'");
        assertMessage("ascending", "0.5,0.1", "ascending");
        assertMessage("positive", "0,0.1", "positive");
        assertMessage("N >= 2", "edm:1", "N >= 2");
        assertMessage("log form", "log:1,2", "log:MIN,MAX,N");
        assertMessage("range", "log:2,1,5", "MIN < MAX");
        assertMessage("empty", " ", "got nothing");
        assertMessage("count", "edm:x", "integer count");
    }

    private static void assertMessage(String what, String spec, String fragment) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> SigmaGrid.parse(spec), what);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
