package org.diffrep.model;

import org.bytedeco.pytorch.GroupNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * DDPM++ residual block: GroupNorm, SiLU, 3x3 conv, plus the projected noise embedding, GroupNorm,
 * SiLU, 3x3 conv (zero-initialised), added to a (1x1-projected) skip and scaled by 1/sqrt(2);
 * optionally followed by single-scale self-attention, also residual and scaled by 1/sqrt(2).
 */
final class ResBlock extends Module {

    private static final double SKIP_SCALE = Math.sqrt(0.5);

    private final GroupNormImpl norm0;
    private final Conv conv0;
    private final LinearImpl affine;
    private final GroupNormImpl norm1;
    private final Conv conv1;
    private final Conv skip;
    private final GroupNormImpl attnNorm;
    private final Conv qkv;
    private final Conv proj;
    private final long heads;

    ResBlock(long in, long out, long embDim, boolean attention) {
        norm0 = register_module("norm0", new GroupNormImpl(groups(in), in));
        conv0 = register_module("conv0", new Conv(in, out, 3, 1, false));
        affine = register_module("affine", new LinearImpl(embDim, out));
        norm1 = register_module("norm1", new GroupNormImpl(groups(out), out));
        conv1 = register_module("conv1", new Conv(out, out, 3, 1, true));
        skip = in != out ? register_module("skip", new Conv(in, out, 1, 1, false)) : null;
        if (attention) {
            attnNorm = register_module("attn_norm", new GroupNormImpl(groups(out), out));
            qkv = register_module("qkv", new Conv(out, out * 3, 1, 1, false));
            proj = register_module("proj", new Conv(out, out, 1, 1, true));
            heads = heads(out);
        } else {
            attnNorm = null;
            qkv = null;
            proj = null;
            heads = 0;
        }
    }

    /**
     * Attention heads of a block of {@code c} channels: one per 64 channels, reduced until it divides
     * {@code c} (so every head has the same width).
     */
    static long heads(long c) {
        long h = Math.max(1, c / 64);
        while (c % h != 0) {
            h--;
        }
        return h;
    }

    /** Groups for GroupNorm: C/4 capped at 32, reduced until it divides C. */
    static long groups(long c) {
        long g = Math.min(32, Math.max(1, c / 4));
        while (c % g != 0) {
            g--;
        }
        return g;
    }

    Tensor forward(Tensor x, Tensor emb) {
        Tensor h = conv0.forward(torch.silu(norm0.forward(x)));
        h = h.add(affine.forward(emb).unsqueeze(2).unsqueeze(3));
        h = conv1.forward(torch.silu(norm1.forward(h)));
        Tensor s = skip != null ? skip.forward(x) : x;
        Tensor y = h.add(s).mul(new Scalar(SKIP_SCALE));
        if (qkv == null) {
            return y;
        }
        long n = y.size(0);
        long c = y.size(1);
        long hw = y.size(2) * y.size(3);
        // [N, 3C, H, W] -> q, k, v each [N, heads, HW, C/heads]
        Tensor t = qkv.forward(attnNorm.forward(y)).reshape(n, 3, heads, c / heads, hw).permute(1, 0, 2, 4, 3);
        Tensor a = torch.scaled_dot_product_attention(t.select(0, 0), t.select(0, 1), t.select(0, 2));
        Tensor back = a.permute(0, 1, 3, 2).reshape(n, c, y.size(2), y.size(3));
        return y.add(proj.forward(back)).mul(new Scalar(SKIP_SCALE));
    }
}
