package org.diffrep.analysis;

import org.diffrep.InvalidInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ClusterMetricsTest {

    @Test
    void handComputedCase() {
        // table [[2,0],[1,1],[0,2]]: sum C(n_ij,2) = 2, a = 3, b = 6, E = 18/15, ARI = 0.8/3.3;
        // MI = (2/3) ln 2, H(U) = ln 3, H(V) = ln 2.
        ClusterMetrics m = ClusterMetrics.of(new int[]{0, 0, 1, 1, 2, 2}, new long[]{0, 0, 0, 1, 1, 1});
        assertEquals(0.8 / 3.3, m.ari(), 1e-12);
        assertEquals((2.0 / 3) * Math.log(2) / ((Math.log(3) + Math.log(2)) / 2), m.nmi(), 1e-12);
        assertEquals(5.0 / 6, m.purity(), 1e-12);
        // the same values scikit-learn 1.2 gives
        assertEquals(0.24242424242424243, m.ari(), 1e-12);
        assertEquals(0.5158037429793888, m.nmi(), 1e-12);
    }

    @Test
    void relabelledPerfectClusteringScoresOne() {
        ClusterMetrics m = ClusterMetrics.of(new int[]{1, 1, 0, 0}, new long[]{7, 7, 3, 3});
        assertEquals(1.0, m.ari(), 1e-12);
        assertEquals(1.0, m.nmi(), 1e-12);
        assertEquals(1.0, m.purity(), 1e-12);
        assertEquals(3, m.classes()[0]);
    }

    @Test
    void worseThanChanceGivesNegativeAri() {
        ClusterMetrics m = ClusterMetrics.of(new int[]{0, 1, 0, 1, 0, 1, 1}, new long[]{0, 0, 1, 1, 2, 2, 2});
        assertEquals(-0.23529411764705882, m.ari(), 1e-12);
        assertEquals(0.01592850062074743, m.nmi(), 1e-12);
    }

    @Test
    void mismatchedLengthsAreRefused() {
        var e = assertThrows(InvalidInputException.class, () -> ClusterMetrics.of(new int[]{0}, new long[]{0, 1}));
        assertEquals("1 assignments but 2 labels", e.getMessage());
    }
}
