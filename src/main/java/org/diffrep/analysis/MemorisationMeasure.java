package org.diffrep.analysis;

import org.bytedeco.pytorch.Tensor;
import org.diffrep.InvalidInputException;
import org.diffrep.ops.Tensors;

import java.util.Arrays;

/**
 * How far a generative model's samples are copies of its training images, from Euclidean (pixel) distances
 * to the nearest images of two reference sets:
 * <ul>
 * <li><b>d_train / d_heldout</b>: each sample's distance to its nearest training image over its distance to
 * the nearest image of a held-out set of the <i>same size</i> (so that neither set is nearer only for being
 * larger). A model that generalises draws new digits, about as far from the training images as from any
 * others: ratio about 1. A model that reproduces its training images: ratio near 0. The median over samples is
 * the headline (robust to the odd sample that lands on a held-out digit by chance).</li>
 * <li><b>memorised fraction</b>: the share of samples with d_train / d_second_train &lt; 1/3, the nearest
 * training image being three times nearer than the second nearest (the criterion of Yoon et al. 2023 and Gu et
 * al. 2023, "On memorization in diffusion models"): a per-sample, absolute test of "this sample is a copy of
 * one training image" that needs no held-out set, taken against the whole training set.</li>
 * </ul>
 *
 * @param trainDistance       per sample, distance to the nearest image of the whole training set
 * @param secondTrainDistance per sample, distance to the second nearest training image
 * @param nearestTrain        per sample, the row of that nearest training image
 * @param matchedTrainDistance per sample, distance to the nearest image of the equal-size training reference
 * @param heldOutDistance     per sample, distance to the nearest held-out image
 * @param medianRatio         median of matchedTrainDistance / heldOutDistance
 * @param memorisedFraction   share of samples with trainDistance / secondTrainDistance &lt; {@link #COPY_RATIO}
 */
public record MemorisationMeasure(double[] trainDistance, double[] secondTrainDistance, int[] nearestTrain,
                                  double[] matchedTrainDistance, double[] heldOutDistance, double medianRatio,
                                  double memorisedFraction) {

    /** A sample whose nearest training image is this many times nearer than the second is counted a copy. */
    public static final double COPY_RATIO = 1.0 / 3;

    /**
     * The measure for {@code samples} [S, D] against {@code train} [A, D] (at least 2 rows), with
     * {@code matchedTrain} [M, D] (the training images the ratio uses: all of them, or a subset as large as the
     * held-out set) and {@code heldOut} [M, D]; all flattened images of the same width.
     */
    public static MemorisationMeasure of(Tensor samples, Tensor train, Tensor matchedTrain, Tensor heldOut) {
        if (train.size(0) < 2) {
            throw InvalidInputException.field("train", "needs at least 2 training images, got " + train.size(0));
        }
        if (matchedTrain.size(0) != heldOut.size(0)) {
            throw new IllegalArgumentException("the ratio's reference sets differ in size: " + matchedTrain.size(0)
                    + " training images, " + heldOut.size(0) + " held-out");
        }
        // the search ranks by ||a||^2 + ||b||^2 - 2 a.b, which leaves rounding of order 1e-3 on a copy; the distances
        // of the neighbours found are then taken exactly, so a sample that is a training image is at distance 0
        float[] sv = Tensors.toFloats(samples.contiguous()), tv = Tensors.toFloats(train.contiguous());
        float[] mv = Tensors.toFloats(matchedTrain.contiguous()), hv = Tensors.toFloats(heldOut.contiguous());
        int width = (int) samples.size(1);
        int k = (int) Math.min(train.size(0), 4);
        NearestNeighbours.Result t = NearestNeighbours.search(train, samples, k, null);
        NearestNeighbours.Result m = NearestNeighbours.search(matchedTrain, samples, Math.min(k, (int) matchedTrain.size(0)), null);
        NearestNeighbours.Result h = NearestNeighbours.search(heldOut, samples, Math.min(k, (int) heldOut.size(0)), null);
        int s = t.indices().length;
        double[] d1 = new double[s], d2 = new double[s], dm = new double[s], dh = new double[s], ratio = new double[s];
        int[] nearest = new int[s];
        int copies = 0;
        for (int i = 0; i < s; i++) {
            double[] dt = exact(sv, i, tv, t.indices()[i], width);
            int[] order = order(dt);
            d1[i] = dt[order[0]];
            d2[i] = dt[order[1]];
            nearest[i] = t.indices()[i][order[0]];
            dm[i] = min(exact(sv, i, mv, m.indices()[i], width));
            dh[i] = min(exact(sv, i, hv, h.indices()[i], width));
            // 0/0 (a sample on images of both sets) counts as no evidence either way
            ratio[i] = dm[i] == 0 && dh[i] == 0 ? 1 : dm[i] / dh[i];
            copies += d1[i] < COPY_RATIO * d2[i] ? 1 : 0;
        }
        return new MemorisationMeasure(d1, d2, nearest, dm, dh, median(ratio), (double) copies / s);
    }

    /** Exact Euclidean distances from sample row {@code i} to the base rows {@code which}. */
    private static double[] exact(float[] samples, int i, float[] base, int[] which, int width) {
        double[] d = new double[which.length];
        for (int j = 0; j < which.length; j++) {
            double ss = 0;
            for (int q = 0; q < width; q++) {
                double diff = samples[i * width + q] - base[which[j] * width + q];
                ss += diff * diff;
            }
            d[j] = Math.sqrt(ss);
        }
        return d;
    }

    private static int[] order(double[] d) {
        return java.util.stream.IntStream.range(0, d.length).boxed()
                .sorted((a, b) -> Double.compare(d[a], d[b])).mapToInt(Integer::intValue).toArray();
    }

    private static double min(double[] d) {
        return Arrays.stream(d).min().orElse(Double.NaN);
    }

    /** Median of d_train / d_second_train over the samples. */
    public double medianNearestRatio() {
        double[] r = new double[trainDistance.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = secondTrainDistance[i] == 0 ? 1 : trainDistance[i] / secondTrainDistance[i];
        }
        return median(r);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
