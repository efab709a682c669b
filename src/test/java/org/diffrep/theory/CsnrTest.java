package org.diffrep.theory;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.ops.DoubleTensors;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CsnrTest {

    @Test
    void matchesAHandComputedCase() {
        try (PointerScope scope = new PointerScope()) {
            // K=2, n=4, d=1: class 0 on e0, class 1 on e1; e2, e3 belong to neither
            Tensor bases = DoubleTensors.fromDoubles(new double[]{1, 0, 0, 0, 0, 1, 0, 0}, 2, 4, 1);
            Tensor estimate = DoubleTensors.fromDoubles(new double[]{
                    2, 1, 5, 0,   // class 0: own 4, other 1 -> 4
                    1, 3, 0, 7,   // class 1: own 9, other 1 -> 9
                    1, 2, 0, 0},  // class 0: own 1, other 4 -> 0.25
                    3, 4);
            long[] labels = {0, 1, 0};
            Csnr.Result r = Csnr.of(estimate, bases, labels);
            assertEquals((4 + 9 + 0.25) / 3, r.meanOfRatios(), 1e-12);
            assertEquals((4 + 9 + 1) / 3.0 / ((1 + 1 + 4) / 3.0), r.ratioOfMeans(), 1e-12);
            assertEquals(3, r.count());
            assertEquals(0, r.infinite());
            // the list form with the same bases agrees
            Csnr.Result fromList = Csnr.of(estimate, List.of(bases.select(0, 0), bases.select(0, 1)), labels);
            assertEquals(r.meanOfRatios(), fromList.meanOfRatios(), 1e-12);
            assertEquals(r.ratioOfMeans(), fromList.ratioOfMeans(), 1e-12);
        }
    }

    @Test
    void samplesWithNoOtherClassEnergyAreCountedApart() {
        Csnr.Result r = Csnr.fromEnergies(new double[]{2, 0, 3, 1}, 2, new long[]{0, 0});
        assertEquals(3.0, r.meanOfRatios(), 1e-12);
        assertEquals(5.0, r.ratioOfMeans(), 1e-12);
        assertEquals(1, r.infinite());
    }
}
