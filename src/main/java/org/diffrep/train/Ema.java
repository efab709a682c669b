package org.diffrep.train;

import java.util.LinkedHashMap;
import java.util.Map;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Exponential moving average of named parameters: after step t, ema = d * ema + (1 - d) * p with
 * d = min(decay, (1 + t) / (10 + t)), so that short runs are not dominated by the initial weights.
 */
public final class Ema {

    private final Map<String, Tensor> params;
    private final Map<String, Tensor> shadow = new LinkedHashMap<>();
    private final double decay;

    public Ema(Map<String, Tensor> params, double decay) {
        this.params = params;
        this.decay = decay;
        try (NoGradGuard g = new NoGradGuard()) {
            params.forEach((k, p) -> shadow.put(k, p.detach().clone().retainReference()));
        }
    }

    /** Averages in the current parameters after step {@code step} (0-based). */
    public void update(long step) {
        double d = Math.min(decay, (1.0 + step) / (10.0 + step));
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : shadow.entrySet()) {
                e.getValue().lerp_(params.get(e.getKey()), new Scalar(1 - d));
            }
        }
    }

    /** The averaged tensors by parameter name (live; copy to keep). */
    public Map<String, Tensor> weights() {
        return shadow;
    }

    /** Copies saved averages back (resume). */
    public void load(Map<String, Tensor> saved) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : shadow.entrySet()) {
                Tensor s = saved.get(e.getKey());
                if (s == null) {
                    throw new IllegalArgumentException("EMA state lacks " + e.getKey());
                }
                e.getValue().copy_(s);
            }
        }
    }

    /** Overwrites the model parameters with the averages (for saving or evaluating the EMA model). */
    public void copyToParams() {
        try (NoGradGuard g = new NoGradGuard()) {
            shadow.forEach((k, s) -> params.get(k).copy_(s));
        }
    }
}
