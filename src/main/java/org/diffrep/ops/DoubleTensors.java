package org.diffrep.ops;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.ops.Tensors;

/** Copies between Java double arrays and CPU float64 tensors (ops.Tensors covers float32 and int64). */
public final class DoubleTensors {

    private DoubleTensors() {
    }

    /** A new CPU float64 tensor holding a copy of {@code values} in the given shape (default 1-D). */
    public static Tensor fromDoubles(double[] values, long... shape) {
        long[] s = shape.length == 0 ? new long[]{values.length} : shape;
        Tensor t = torch.empty(s, Tensors.options(ScalarType.Double), null);
        if (t.numel() != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill shape " + java.util.Arrays.toString(s));
        }
        t.data_ptr_double().put(values);
        return t;
    }

    /** The elements of a tensor (any float type, device or layout) as float64, in row-major order. */
    public static double[] toDoubles(Tensor t) {
        Tensor c = t.is_cpu() ? t : t.cpu();
        if (c.scalar_type() != ScalarType.Double) {
            c = c.to(ScalarType.Double);
        }
        c = c.contiguous();
        double[] out = new double[(int) c.numel()];
        c.data_ptr_double().get(out);
        return out;
    }
}
