package org.diffrep.reconstruct;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.model.Denoiser;
import org.diffrep.ops.Tensors;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The optimal (posterior-mean) denoiser of a finite set of images: D(y; sigma) = sum_i w_i x_i with
 * w = softmax_i(-||y - x_i||^2 / (2 sigma^2)). Its sampler draws memorise the set, which makes it an exact
 * reference for testing a sampler on real digits without a trained network (tests only).
 */
final class EmpiricalDenoiser implements Denoiser {

    private final Tensor images;   // [M, D]
    private final long[] shape;

    EmpiricalDenoiser(float[] flat, int count, long[] shape) {
        int d = (int) (shape[0] * shape[1] * shape[2]);
        this.images = Tensors.fromFloats(flat, count, d);
        this.shape = shape;
    }

    @Override
    public List<String> taps() {
        return List.of("out");
    }

    @Override
    public long[] inputShape() {
        return shape;
    }

    @Override
    public Output forward(Tensor x, Tensor sigma, Set<String> taps, boolean wantDenoised) {
        long b = x.size(0);
        Tensor y = x.reshape(b, images.size(1));
        Tensor d2 = y.mm(images.t()).mul(new Scalar(-2.0))
                .add(y.mul(y).sum(1).unsqueeze(1))
                .add(images.mul(images).sum(1).unsqueeze(0));
        Tensor logits = d2.div(sigma.mul(sigma).mul(new Scalar(-2.0)).unsqueeze(1));
        Tensor w = torch.softmax(logits, 1);
        Tensor out = w.mm(images).reshape(org.diffrep.ops.Tensors.shape(x));
        return new Output(out, Map.of());
    }
}
