package org.diffrep.theory;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.diffrep.ops.Tensors;

import java.util.ArrayList;
import java.util.List;

/**
 * Class subspaces of real features, so that their CSNR can be measured like the MoLRG's: L2-normalise
 * each feature vector, subtract the global mean, and take per class the top right singular vectors of
 * that class's rows as its basis.
 */
public final class FeatureBases {

    /** The research's choice of subspace dimension per class. */
    public static final int DEFAULT_RANK = 5;

    private FeatureBases() {
    }

    /** The normalised, centred features [N, C] in float64: rows scaled to unit L2 norm, then the column mean removed. */
    public static Tensor prepare(Tensor features) {
        if (features.dim() != 2) {
            throw new IllegalArgumentException("features must be [N, C], got " + Csnr.shapeOf(features));
        }
        Tensor x = features.to(ScalarType.Double);
        Tensor norms = x.square().sum(new long[]{1}, true, null).sqrt().clamp_min(new Scalar(1e-12));
        x = x.div(norms);
        return x.sub(x.mean(new long[]{0}, true, null));
    }

    /**
     * One basis [C, r_k] per class: the top {@code rank} right singular vectors of that class's rows of
     * {@code prepared}; r_k = min(rank, rows of the class, C), so a class with fewer rows than
     * {@code rank} gets a smaller basis, and a class with none an empty one [C, 0].
     */
    public static List<Tensor> fit(Tensor prepared, long[] labels, int numClasses, int rank) {
        if (rank < 1) {
            throw new IllegalArgumentException("rank must be >= 1, got " + rank);
        }
        if (prepared.dim() != 2 || prepared.size(0) != labels.length) {
            throw new IllegalArgumentException("features must be [" + labels.length + ", C], got " + Csnr.shapeOf(prepared));
        }
        long c = prepared.size(1);
        Tensor x = prepared.to(ScalarType.Double);
        List<Tensor> bases = new ArrayList<>(numClasses);
        for (int k = 0; k < numClasses; k++) {
            long[] rows = rowsOf(labels, k, numClasses);
            if (rows.length == 0) {
                bases.add(torch.zeros(new long[]{c, 0}, Tensors.options(ScalarType.Double)));
                continue;
            }
            Tensor xk = x.index_select(0, Tensors.fromLongs(rows));
            T_TensorTensorTensor_T usv = torch.linalg_svd(xk, false, null);
            Tensor vh = usv.get2(); // [min(n_k, C), C], rows sorted by singular value, descending
            long r = Math.min(rank, vh.size(0));
            bases.add(vh.narrow(0, 0, r).t().contiguous());
        }
        return bases;
    }

    /** CSNR of real features: prepare, fit bases on the same rows, measure. */
    public static Csnr.Result csnr(Tensor features, long[] labels, int numClasses, int rank) {
        Tensor prepared = prepare(features);
        return Csnr.of(prepared, fit(prepared, labels, numClasses, rank), labels);
    }

    private static long[] rowsOf(long[] labels, int k, int numClasses) {
        int count = 0;
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + labels[i] + " of row " + i + " is outside [0, " + numClasses + ")");
            }
            if (labels[i] == k) {
                count++;
            }
        }
        long[] rows = new long[count];
        for (int i = 0, j = 0; i < labels.length; i++) {
            if (labels[i] == k) {
                rows[j++] = i;
            }
        }
        return rows;
    }
}
