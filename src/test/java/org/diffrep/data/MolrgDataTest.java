package org.diffrep.data;

import org.bytedeco.javacpp.PointerScope;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MolrgDataTest {

    @Test
    void basesAreOrthonormalAndMutuallyOrthogonal() {
        MolrgData m = MolrgData.generate(MolrgParams.parse("n=50,d=5,K=3,delta=0.2,samples=600,seed=0"));
        double[][][] u = m.bases();
        assertEquals(3, u.length);
        assertEquals(50, u[0].length);
        assertEquals(5, u[0][0].length);
        double worst = 0;
        for (int k = 0; k < 3; k++) {
            for (int l = 0; l < 3; l++) {
                for (int i = 0; i < 5; i++) {
                    for (int j = 0; j < 5; j++) {
                        double dot = 0;
                        for (int r = 0; r < 50; r++) {
                            dot += u[k][r][i] * u[l][r][j];
                        }
                        worst = Math.max(worst, Math.abs(dot - (k == l && i == j ? 1 : 0)));
                    }
                }
            }
        }
        assertTrue(worst < 1e-12, "max |U^T U - I| = " + worst);
        // Full rank Kd = n works too.
        double[][][] full = MolrgData.bases(6, 2, 3, 9);
        double dot = 0;
        for (int r = 0; r < 6; r++) {
            dot += full[2][r][1] * full[0][r][0];
        }
        assertEquals(0, dot, 1e-12);
    }

    @Test
    void samplesFollowTheModel() {
        MolrgParams p = new MolrgParams(50, 5, 3, 0.2, 3000, 7);
        MolrgData m = MolrgData.generate(p);
        assertArrayEquals(new int[]{1000, 1000, 1000}, m.asDataset().classCounts());
        // E||U_k^T x||^2 = d for the own class, delta^2 d for each other class; x lies in span(U_1..U_K).
        double[][] energy = new double[3][3];
        double residual = 0;
        for (int i = 0; i < p.samples(); i++) {
            float[] x = m.x0()[i];
            double total = 0;
            double inSpan = 0;
            for (double v : x) {
                total += v * v;
            }
            for (int l = 0; l < 3; l++) {
                double e = 0;
                for (int j = 0; j < 5; j++) {
                    double c = 0;
                    for (int r = 0; r < 50; r++) {
                        c += m.bases()[l][r][j] * x[r];
                    }
                    e += c * c;
                }
                energy[m.labels()[i]][l] += e / 1000;
                inSpan += e;
            }
            residual = Math.max(residual, Math.abs(total - inSpan) / total);
        }
        assertTrue(residual < 1e-5, "relative energy outside the span: " + residual);
        for (int k = 0; k < 3; k++) {
            for (int l = 0; l < 3; l++) {
                double expected = k == l ? 5 : 0.04 * 5;
                assertEquals(expected, energy[k][l], 0.12 * expected, "class " + k + " on basis " + l);
            }
        }
    }

    @Test
    void deterministicAndSeedDependent() {
        MolrgData a = MolrgData.generate(MolrgParams.parse("samples=50,seed=3"));
        MolrgData b = MolrgData.generate(MolrgParams.parse("seed=3,samples=50"));
        assertArrayEquals(a.x0Flat(), b.x0Flat());
        assertArrayEquals(a.labels(), b.labels());
        MolrgData c = MolrgData.generate(MolrgParams.parse("samples=50,seed=4"));
        assertNotEquals(a.x0()[0][0], c.x0()[0][0]);
        assertEquals(new MolrgParams(50, 5, 3, 0.2, 50, 3), a.params());
    }

    @Test
    void drawIsTheSamplerOfGenerate() {
        MolrgData m = MolrgData.generate(new MolrgParams(20, 2, 3, 0.3, 60, 5));
        MolrgData.Samples same = MolrgData.draw(m.bases(), 0.3, 60, 5);
        assertArrayEquals(m.x0Flat(), same.x0Flat());
        assertArrayEquals(m.labels(), same.labels());
        // another seed: fresh, balanced samples of the same mixture
        MolrgData.Samples fresh = MolrgData.draw(m.bases(), 0.3, 61, 6);
        assertEquals(61 * 20, fresh.x0Flat().length);
        int[] counts = new int[3];
        for (long y : fresh.labelsLong()) {
            counts[(int) y]++;
        }
        assertArrayEquals(new int[]{21, 20, 20}, counts);
        assertNotEquals(m.x0()[0][0], fresh.x0()[0][0]);
    }

    @Test
    void asDatasetAndSpec() {
        Dataset d = DataSpec.open("molrg:n=20,d=2,K=4,delta=0.1,samples=40,seed=1");
        MolrgData m = MolrgData.generate(new MolrgParams(20, 2, 4, 0.1, 40, 1));
        assertArrayEquals(new int[]{1, 1, 20}, d.imageShape());
        assertEquals(4, d.numClasses());
        try (PointerScope scope = new PointerScope()) {
            Batch b = d.batch(new long[]{5, 39});
            assertArrayEquals(new long[]{2, 1, 1, 20}, Tensors.shape(b.images()));
            float[] x = Tensors.toFloats(b.images());
            for (int r = 0; r < 20; r++) {
                assertEquals(m.x0()[5][r], x[r]);
                assertEquals(m.x0()[39][r], x[20 + r]);
            }
        }
    }

    @Test
    void badParametersAreRefused() {
        assertThrows(InvalidInputException.class, () -> MolrgParams.parse("n=10,d=5,K=3"));
        assertThrows(InvalidInputException.class, () -> MolrgParams.parse("delta=-1"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> MolrgParams.parse("dims=3"));
        assertTrue(e.getMessage().contains("unknown field 'dims'"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> DataSpec.open("molrg:n=abc"));
        assertTrue(e.getMessage().contains("field n"), e.getMessage());
    }

    @Test
    void complementNoiseSpacePutsTheSmallPartInTheWholeComplement() {
        int n = 12, d = 2, k = 3, count = 6000;
        double delta = 0.3;
        double[][][] u = MolrgData.bases(n, d, k, 7);
        // OTHERS is the three-argument draw, unchanged
        MolrgData.Samples a = MolrgData.draw(u, delta, 50, 3);
        MolrgData.Samples b = MolrgData.draw(u, delta, 50, 3, MolrgNoiseSpace.OTHERS);
        assertArrayEquals(a.x0Flat(), b.x0Flat());
        assertArrayEquals(a.labels(), b.labels());
        for (MolrgNoiseSpace space : MolrgNoiseSpace.values()) {
            MolrgData.Samples s = MolrgData.draw(u, delta, count, 5, space);
            double own = 0, others = 0, rest = 0;
            for (int i = 0; i < count; i++) {
                float[] x = s.x0()[i];
                double total = 0;
                for (float v : x) {
                    total += v * v;
                }
                double in = 0;
                for (int c = 0; c < k; c++) {
                    double e = 0;
                    for (int j = 0; j < d; j++) {
                        double dot = 0;
                        for (int r = 0; r < n; r++) {
                            dot += u[c][r][j] * x[r];
                        }
                        e += dot * dot;
                    }
                    in += e;
                    if (c == s.labels()[i]) {
                        own += e / count;
                    } else {
                        others += e / count;
                    }
                }
                rest += (total - in) / count;
            }
            double d2 = delta * delta;
            assertEquals(d, own, 0.05 * d, space + " own");
            assertEquals(d2 * (k - 1) * d, others, 0.05 * d2 * (k - 1) * d, space + " other classes");
            double wantRest = space == MolrgNoiseSpace.COMPLEMENT ? d2 * (n - k * d) : 0;
            assertEquals(wantRest, rest, 0.05 * d2 * (n - k * d) + 1e-9, space + " outside every basis");
        }
        assertEquals(MolrgNoiseSpace.COMPLEMENT, MolrgNoiseSpace.parse(" Complement", "noiseSpace"));
    }
}
