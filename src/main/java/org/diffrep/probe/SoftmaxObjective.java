package org.diffrep.probe;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.ops.DoubleTensors;
import org.diffrep.ops.Tensors;

/**
 * The L2-penalised multinomial logistic loss on fixed features, with its analytic gradient:
 * f(W, b) = mean_i [logsumexp(z_i) - z_{i, y_i}] + l2/2 ||W||^2 with z_i = x_i W + b (the bias is not
 * penalised). Parameters are one flat float64 vector: W [C, K] row-major, then b [K].
 */
public final class SoftmaxObjective implements Lbfgs.Objective {

    private final Tensor x;
    private final Tensor oneHot;
    private final long c;
    private final long k;
    private final double l2;

    /** @param x features [N, C] (converted to float64); labels in [0, numClasses) */
    public SoftmaxObjective(Tensor x, long[] labels, int numClasses, double l2) {
        if (x.dim() != 2 || x.size(0) != labels.length) {
            throw new IllegalArgumentException("features must be [" + labels.length + ", C], got "
                    + java.util.Arrays.toString(Tensors.shape(x)));
        }
        if (!(l2 >= 0)) {
            throw new IllegalArgumentException("l2 must be >= 0, got " + l2);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + labels[i] + " of row " + i + " is outside [0, " + numClasses + ")");
            }
        }
        this.x = x.to(ScalarType.Double).contiguous();
        this.oneHot = torch.one_hot(Tensors.fromLongs(labels), numClasses).to(ScalarType.Double);
        this.c = x.size(1);
        this.k = numClasses;
        this.l2 = l2;
    }

    /** Length of the flat parameter vector: C*K + K. */
    public long parameterCount() {
        return c * k + k;
    }

    /** A zero parameter vector. */
    public double[] zeros() {
        return new double[(int) parameterCount()];
    }

    /** Logits [N, K] of features {@code x} under flat parameters {@code p}. */
    public static Tensor logits(Tensor x, Tensor p, long c, long k) {
        Tensor w = p.narrow(0, 0, c * k).reshape(c, k);
        Tensor b = p.narrow(0, c * k, k);
        return x.matmul(w).add(b);
    }

    @Override
    public double evaluate(double[] params, double[] gradOut) {
        try (PointerScope scope = new PointerScope()) {
            Tensor grad = torch.zeros(new long[]{parameterCount()}, Tensors.options(ScalarType.Double));
            double value = evaluate(DoubleTensors.fromDoubles(params), grad);
            grad.data_ptr_double().get(gradOut);
            return value;
        }
    }

    /** f at flat parameters {@code p} (float64 tensor); writes the gradient into {@code grad}. */
    public double evaluate(Tensor p, Tensor grad) {
        Tensor w = p.narrow(0, 0, c * k).reshape(c, k);
        Tensor z = logits(x, p, c, k);
        double n = x.size(0);
        Tensor logp = torch.log_softmax(z, 1);
        double nll = -logp.mul(oneHot).sum().item_double() / n;
        double value = nll + 0.5 * l2 * w.square().sum().item_double();
        Tensor g = logp.exp().sub(oneHot).div(new Scalar(n)); // [N, K]
        grad.narrow(0, 0, c * k).reshape(c, k).copy_(x.t().matmul(g).add(w, new Scalar(l2)));
        grad.narrow(0, c * k, k).copy_(g.sum(0));
        return value;
    }
}
