package org.diffrep.model;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * A square 2-D convolution with "same" padding and an optional stride, parameters {@code weight}
 * [out, in, k, k] and {@code bias} [out]. Initialised like PyTorch's Conv2d (uniform +-1/sqrt(fan_in)),
 * or to zero for the last layer of a residual branch so that a fresh block is the identity.
 */
final class Conv extends Module {

    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int pad;

    Conv(long in, long out, int kernel, int stride, boolean zeroInit) {
        this.stride = stride;
        this.pad = kernel / 2;
        double bound = 1.0 / Math.sqrt(in * kernel * kernel);
        Tensor w = torch.rand(out, in, kernel, kernel).mul(new Scalar(2 * bound)).sub(new Scalar(bound));
        Tensor b = torch.rand(out).mul(new Scalar(2 * bound)).sub(new Scalar(bound));
        if (zeroInit) {
            try (NoGradGuard g = new NoGradGuard()) {
                w.zero_();
                b.zero_();
            }
        }
        // Keep our own handles: register_parameter returns a reference into the module's parameter
        // list, which moves when the list grows.
        register_parameter("weight", w);
        register_parameter("bias", b);
        this.weight = w.retainReference();
        this.bias = b.retainReference();
    }

    Tensor forward(Tensor x) {
        return torch.conv2d(x, weight, new TensorOptional(bias), new long[]{stride, stride},
                new long[]{pad, pad}, new long[]{1, 1}, 1);
    }
}
