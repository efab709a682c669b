package org.diffrep.analysis;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

import java.util.Arrays;

/**
 * Euclidean k nearest neighbours among the rows of a base matrix [N, d], by chunked matrix products
 * over the queries (each chunk holds at most 16M distances), and a k-NN classifier built on them.
 */
public final class NearestNeighbours {

    private NearestNeighbours() {
    }

    /**
     * Neighbours of each query: base row indices [Q][k] and squared distances [Q][k], nearest first.
     *
     * @param exclude per query a base row to leave out (itself, when the queries are base rows), or null
     */
    public record Result(int[][] indices, float[][] distances) {
    }

    /** The k nearest base rows of each query row; {@code exclude[q]} (if given and >= 0) is skipped. */
    public static Result search(Tensor base, Tensor queries, int k, int[] exclude) {
        RowDistances.checkMatrix(base, "neighbour base");
        RowDistances.checkMatrix(queries, "neighbour queries");
        long n = base.size(0);
        int want = k + (exclude == null ? 0 : 1);
        if (k < 1 || want > n) {
            throw InvalidInputException.field("k", k + " must be in [1, " + (n - (exclude == null ? 0 : 1))
                    + "] for " + n + " rows");
        }
        if (base.size(1) != queries.size(1)) {
            throw new InvalidInputException("queries have width " + queries.size(1) + ", the base " + base.size(1));
        }
        int q = (int) queries.size(0);
        int[][] idx = new int[q][k];
        float[][] dist = new float[q][k];
        float[] baseNorms = RowDistances.norms(base);
        long rows = RowDistances.chunkRows(n);
        try (PointerScope scope = new PointerScope()) {
            Tensor bn = Tensors.fromFloats(baseNorms, 1, n);
            bn = base.is_cpu() ? bn : bn.to(base.device(), org.bytedeco.pytorch.global.torch.ScalarType.Float);
            for (long s = 0; s < q; s += rows) {
                try (PointerScope inner = new PointerScope()) {
                    long b = Math.min(rows, q - s);
                    Tensor qc = queries.narrow(0, s, b);
                    Tensor d2 = qc.mm(base.t()).mul(new org.bytedeco.pytorch.Scalar(-2.0))
                            .add(qc.mul(qc).sum(1).unsqueeze(1)).add(bn).clamp_min_(new org.bytedeco.pytorch.Scalar(0.0));
                    T_TensorTensor_T top = d2.topk(want, 1, false, true);
                    float[] v = Tensors.toFloats(top.get0());
                    long[] ix = Tensors.toLongs(top.get1());
                    for (int r = 0; r < b; r++) {
                        int qi = (int) (s + r), filled = 0;
                        for (int j = 0; j < want && filled < k; j++) {
                            int cand = (int) ix[r * want + j];
                            if (exclude != null && cand == exclude[qi]) {
                                continue;
                            }
                            idx[qi][filled] = cand;
                            dist[qi][filled] = v[r * want + j];
                            filled++;
                        }
                    }
                }
            }
        }
        return new Result(idx, dist);
    }

    /**
     * Predicted labels by majority vote of the k nearest training rows; a tie goes to the tied class
     * whose nearest member is closest.
     */
    public static long[] classify(Tensor train, long[] trainLabels, Tensor test, int k) {
        if (trainLabels.length != train.size(0)) {
            throw new InvalidInputException(trainLabels.length + " labels for " + train.size(0) + " training rows");
        }
        Result r = search(train, test, k, null);
        long[] out = new long[r.indices().length];
        for (int i = 0; i < out.length; i++) {
            long[] votes = new long[k];
            for (int j = 0; j < k; j++) {
                votes[j] = trainLabels[r.indices()[i][j]];
            }
            long best = votes[0];
            int bestCount = 0;
            // neighbours are nearest first, so the first label reaching the top count wins ties
            for (int j = 0; j < k; j++) {
                final long label = votes[j];
                int c = (int) Arrays.stream(votes).filter(v -> v == label).count();
                if (c > bestCount) {
                    bestCount = c;
                    best = label;
                }
            }
            out[i] = best;
        }
        return out;
    }

    /** Share of test rows whose k-NN prediction equals their label. */
    public static double accuracy(Tensor train, long[] trainLabels, Tensor test, long[] testLabels, int k) {
        long[] p = classify(train, trainLabels, test, k);
        if (p.length != testLabels.length) {
            throw new InvalidInputException(testLabels.length + " labels for " + p.length + " test rows");
        }
        int hit = 0;
        for (int i = 0; i < p.length; i++) {
            hit += p[i] == testLabels[i] ? 1 : 0;
        }
        return (double) hit / p.length;
    }
}
