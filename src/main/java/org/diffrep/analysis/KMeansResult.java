package org.diffrep.analysis;

/**
 * The best of the k-means starts.
 *
 * @param centroids    [k][d] cluster centres
 * @param assignments  [N] index of each row's nearest centre
 * @param sizes        [k] rows per cluster
 * @param inertia      sum over rows of the squared distance to the assigned centre
 * @param iterations   Lloyd iterations the best start took
 * @param initInertias inertia of every start, in start order
 */
public record KMeansResult(float[][] centroids, int[] assignments, int[] sizes, double inertia,
                           int iterations, double[] initInertias) {

    public int k() {
        return centroids.length;
    }
}
