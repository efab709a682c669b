package org.diffrep.probe;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Logit tensors as row-major double arrays, the form scoring and soft voting work on. */
public final class LogitArrays {

    private LogitArrays() {
    }

    public static double[] of(Tensor logits) {
        Tensor d = logits.to(ScalarType.Double).contiguous();
        double[] out = new double[(int) d.numel()];
        d.data_ptr_double().get(out);
        return out;
    }
}
