package org.diffrep.ops;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam (Kingma and Ba) on named parameters, with its moment tensors exposed by name so that a
 * checkpoint can save and restore them exactly (beta1 0.9, beta2 0.999, eps 1e-8; the update of
 * torch.optim.Adam, operation for operation: {@code p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)};
 * no weight decay: an L2 penalty belongs in the loss). The one Adam of the project: diffusion training, the
 * SAE, the neural probes and the logistic probe's minibatch path all step through it.
 */
public final class AdamOptimizer {

    private static final double B1 = 0.9;
    private static final double B2 = 0.999;
    private static final double EPS = 1e-8;

    private final Map<String, Tensor> params;
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private long t;

    public AdamOptimizer(Map<String, Tensor> params) {
        this.params = params;
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            m.put(e.getKey(), torch.zeros_like(e.getValue()).retainReference());
            v.put(e.getKey(), torch.zeros_like(e.getValue()).retainReference());
        }
    }

    /**
     * One update with learning rate {@code lr} from the parameters' current gradients; then clears them
     * (undefined, as torch's {@code zero_grad()}: the next backward writes fresh ones). A parameter
     * without a gradient is left as it is.
     */
    public void step(double lr) {
        step(lr, null);
    }

    /**
     * One update with learning rate {@code lr} from gradients computed outside autograd (an objective
     * that returns its own gradient), by parameter name; a parameter without one is left as it is.
     * The gradients are read, not cleared.
     */
    public void step(double lr, Map<String, Tensor> gradients) {
        t++;
        double c1 = 1 - Math.pow(B1, t);
        double c2 = 1 - Math.pow(B2, t);
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor p = e.getValue();
                Tensor grad = gradients == null ? p.grad() : gradients.get(e.getKey());
                if (grad == null || !grad.defined()) {
                    continue;
                }
                Tensor mi = m.get(e.getKey());
                Tensor vi = v.get(e.getKey());
                mi.mul_(new Scalar(B1)).add_(grad, new Scalar(1 - B1));
                vi.mul_(new Scalar(B2)).addcmul_(grad, grad, new Scalar(1 - B2));
                Tensor denom = vi.sqrt().div_(new Scalar(Math.sqrt(c2))).add_(new Scalar(EPS));
                p.addcdiv_(mi, denom, new Scalar(-lr / c1));
                if (gradients == null) {
                    p.mutable_grad().reset();
                }
            }
        }
    }

    /** Steps taken so far. */
    public long steps() {
        return t;
    }

    /** Moment tensors as {@code m.NAME} and {@code v.NAME}, for checkpoints. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        m.forEach((k, x) -> s.put("m." + k, x));
        v.forEach((k, x) -> s.put("v." + k, x));
        return s;
    }

    /** Restores the moments saved by {@link #state()} and the step count. */
    public void load(Map<String, Tensor> state, long steps) {
        try (NoGradGuard g = new NoGradGuard()) {
            copyInto(m, state, "m.");
            copyInto(v, state, "v.");
        }
        t = steps;
    }

    private static void copyInto(Map<String, Tensor> dst, Map<String, Tensor> src, String prefix) {
        for (Map.Entry<String, Tensor> e : dst.entrySet()) {
            Tensor s = src.get(prefix + e.getKey());
            if (s == null) {
                throw new IllegalArgumentException("optimizer state lacks " + prefix + e.getKey());
            }
            e.getValue().copy_(s);
        }
    }
}
