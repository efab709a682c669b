package org.diffrep.reconstruct;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.data.DataSpec;
import org.diffrep.data.Dataset;
import org.diffrep.model.NetworkDenoiser;
import org.diffrep.ops.Tensors;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The representation-space 3-NN classifier against a brute-force Mahalanobis search, on real digits. */
class RepresentationClassifierTest {

    @Test
    void agreesWithABruteForceMahalanobisVote() {
        NetworkDenoiser net = RepresentationGuidanceTest.evalUNet();
        Dataset ds = DataSpec.open("builtin:mnist");
        int m = 100, q = 20;
        try (PointerScope s = new PointerScope(); NoGradGuard off = new NoGradGuard()) {
            long[] trainIdx = LongStream.range(0, m).toArray();
            long[] queryIdx = LongStream.range(m, m + q).toArray();
            Tensor train = ds.batch(trainIdx).images();
            Tensor query = ds.batch(queryIdx).images();
            long[] labels = Arrays.stream(trainIdx).map(i -> ds.label((int) i)).toArray();
            long[] got = new RepresentationClassifier(net, "mid", 1f, train, labels).classify(query);

            // the metric's precision from the same images at the same level, ridge SHRINK
            Tensor p = RepresentationMetric.estimate(net, "mid", train, 1.0, 1.0, 1, RepresentationMetric.SHRINK)
                    .precisionFor(new float[]{1f}).get(0);
            double[][] rt = rows(Representation.of(net, "mid", train, sigmas(m)));
            double[][] rq = rows(Representation.of(net, "mid", query, sigmas(q)));
            double[][] pm = rows(p);
            long[] expected = new long[q];
            for (int i = 0; i < q; i++) {
                double[] d = new double[m];
                for (int j = 0; j < m; j++) {
                    double[] diff = new double[rq[i].length];
                    for (int c = 0; c < diff.length; c++) {
                        diff[c] = rq[i][c] - rt[j][c];
                    }
                    for (int a = 0; a < diff.length; a++) {
                        for (int b = 0; b < diff.length; b++) {
                            d[j] += diff[a] * pm[a][b] * diff[b];
                        }
                    }
                }
                Integer[] order = new Integer[m];
                Arrays.setAll(order, j -> j);
                Arrays.sort(order, (x, y) -> Double.compare(d[x], d[y]));
                long[] votes = {labels[order[0]], labels[order[1]], labels[order[2]]};
                // majority of 3; with three different labels the nearest wins
                expected[i] = votes[1] == votes[2] ? votes[1] : votes[0];
            }
            assertArrayEquals(expected, got);
        }
    }

    private static Tensor sigmas(int n) {
        float[] s = new float[n];
        Arrays.fill(s, 1f);
        return Tensors.fromFloats(s);
    }

    private static double[][] rows(Tensor t) {
        Tensor d = t.to(torch.ScalarType.Float).contiguous();
        float[] f = Tensors.toFloats(d);
        int r = (int) d.size(0), c = (int) d.size(1);
        double[][] out = new double[r][c];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                out[i][j] = f[i * c + j];
            }
        }
        return out;
    }
}
