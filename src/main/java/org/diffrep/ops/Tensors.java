package org.diffrep.ops;

import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Copies between Java arrays and CPU tensors, and small LibTorch helpers. */
public final class Tensors {

    private Tensors() {
    }

    /** A new CPU float32 tensor holding a copy of {@code values} in the given shape (default 1-D). */
    public static Tensor fromFloats(float[] values, long... shape) {
        long[] s = shape.length == 0 ? new long[]{values.length} : shape;
        Tensor t = torch.empty(s, options(ScalarType.Float), null);
        checkCount(values.length, t);
        t.data_ptr_float().put(values);
        return t;
    }

    /** A new CPU int64 tensor holding a copy of {@code values} in the given shape (default 1-D). */
    public static Tensor fromLongs(long[] values, long... shape) {
        long[] s = shape.length == 0 ? new long[]{values.length} : shape;
        Tensor t = torch.empty(s, options(ScalarType.Long), null);
        checkCount(values.length, t);
        t.data_ptr_long().put(values);
        return t;
    }

    /** The elements of a float32 tensor (any device, any layout), in row-major order. */
    public static float[] toFloats(Tensor t) {
        Tensor c = cpuContiguous(t, ScalarType.Float);
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    /** The elements of an integer tensor as int64, in row-major order. */
    public static long[] toLongs(Tensor t) {
        Tensor c = cpuContiguous(t, ScalarType.Long);
        long[] out = new long[(int) c.numel()];
        c.data_ptr_long().get(out);
        return out;
    }

    /** CPU tensor options of a scalar type. */
    public static TensorOptions options(ScalarType type) {
        return new TensorOptions().dtype(new ScalarTypeOptional(type));
    }

    /** The shape of a tensor. */
    public static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }

    private static Tensor cpuContiguous(Tensor t, ScalarType type) {
        Tensor c = t;
        if (!c.is_cpu() || c.scalar_type().value != type.value) {
            c = c.to(options(type), false, false, null);
        }
        return c.contiguous();
    }

    private static void checkCount(int count, Tensor t) {
        if (count != t.numel()) {
            throw new IllegalArgumentException(count + " values do not fill shape " + Kernels.shape(t));
        }
    }
}
