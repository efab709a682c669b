package org.diffrep.probe;

import org.diffrep.io.Json;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 95% Wilson interval of a probe's accuracy against textbook values, and in the result's JSON. */
class ProbeResultTest {

    @Test
    void wilsonIntervalsMatchTextbookValues() {
        // 50 of 100: [0.4038, 0.5962]; 10 of 10: [0.7225, 1] (Wilson 1927; e.g. Newcombe 1998, method 3)
        assertArrayEquals(new double[]{0.40383, 0.59617}, ProbeResult.wilson(0.5, 100, ProbeResult.Z95), 1e-5);
        assertArrayEquals(new double[]{0.72247, 1.0}, ProbeResult.wilson(1.0, 10, ProbeResult.Z95), 1e-5);
        assertArrayEquals(new double[]{0.0, 0.27753}, ProbeResult.wilson(0.0, 10, ProbeResult.Z95), 1e-5);
        double[] none = ProbeResult.wilson(0.5, 0, ProbeResult.Z95);
        assertTrue(Double.isNaN(none[0]) && Double.isNaN(none[1]));
    }

    @Test
    void theIntervalNarrowsWithTheTestSetAndIsWritten() throws Exception {
        ProbeResult small = new ProbeResult(0.9, null, new double[0], new long[0][], 100, 0, false, 1, true, 0);
        ProbeResult large = new ProbeResult(0.9, null, new double[0], new long[0][], 1000, 0, false, 1, true, 0);
        double[] s = small.accuracyInterval95(), l = large.accuracyInterval95();
        assertTrue(s[0] < l[0] && l[1] < s[1], "1,000 test images pin the accuracy closer than 100");
        assertEquals(0.87985, l[0], 1e-5);
        assertEquals(0.91709, l[1], 1e-5);
        assertTrue(Json.COMPACT.writeValueAsString(large).contains("\"accuracyInterval95\":[0.879"),
                Json.COMPACT.writeValueAsString(large));
    }
}
