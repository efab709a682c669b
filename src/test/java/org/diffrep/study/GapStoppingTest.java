package org.diffrep.study;

import org.diffrep.train.Trainer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GapStoppingTest {

    @Test
    void stopsAtTheTolerance() {
        GapStopping rule = new GapStopping(0.05, 2, 3);
        assertFalse(rule.next(0.5).stop());
        assertFalse(rule.next(0.2).stop());
        assertNull(rule.reason());
        Trainer.Decision d = rule.next(0.05);
        assertTrue(d.stop());
        assertEquals("tolerance", rule.reason());
        assertEquals(1.0, d.lrScale());
    }

    @Test
    void halvesTheRateOnAPlateauThenStops() {
        GapStopping rule = new GapStopping(0.01, 2, 2);
        assertEquals(1.0, rule.next(1.0).lrScale());
        assertEquals(1.0, rule.next(0.995).lrScale()); // less than 1% better: stale 1
        assertEquals(0.5, rule.next(1.2).lrScale());   // stale 2: first halving
        assertEquals(0.5, rule.next(0.5).lrScale());   // progress resets the count
        assertEquals(0.5, rule.next(Double.NaN).lrScale()); // NaN is no progress
        assertEquals(0.25, rule.next(0.5).lrScale());  // second halving
        assertFalse(rule.next(0.6).stop());
        Trainer.Decision d = rule.next(0.6);           // a plateau after the last halving
        assertTrue(d.stop());
        assertEquals("plateau", rule.reason());
        assertEquals(0.5, rule.best());
    }

    @Test
    void unimodalMeansRiseThenFall() {
        assertTrue(MolrgExperiment.unimodal(new double[]{1, 2, 2, 3, 1}, 3));
        assertTrue(MolrgExperiment.unimodal(new double[]{3, 2, 1}, 0));
        assertFalse(MolrgExperiment.unimodal(new double[]{1, 3, 2, 3, 1}, 1));
        assertFalse(MolrgExperiment.unimodal(new double[]{1, 3, 2, 2.5, 1}, 1));
    }
}
