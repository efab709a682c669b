package org.diffrep.extract;

import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * How a tap's feature maps become stored rows: maps [B, C, H, W] (or [B, C] for a flat tap) on
 * their device to rows [B, F], F fixed by the tap's shape. The extractor selects one per tap by
 * {@link #name} ({@link ExtractConfig#reduce}, {@code --reduce mid=mean,dec.0=NAME}) and writes
 * the rows to {@code features/<tap>/sigma_<i>.npy}.
 *
 * <p>Three kinds (docs/KERNELS.md): the built-ins (mean, mean+max, none; top-k on the rows with
 * {@code topk}), Java classes over LibTorch ops found by {@link java.util.ServiceLoader} (list the
 * class in {@code META-INF/services/org.diffrep.extract.FeatureReduction}; it needs a public
 * no-argument constructor), and native kernels named with {@code --kernel-file}: CUDA source
 * compiled at run time, or a function in a shared library. The store's manifest records each
 * tap's reduction and a hash of its code, so a resumed run refuses a changed one.
 */
public interface FeatureReduction {

    /** The name {@code --reduce} selects it by: letters, digits and {@code -_.+}, unique among reductions. */
    String name();

    /**
     * F, the row length for a tap whose map is {@code mapShape} without the batch ([C, H, W], or [C]).
     *
     * @throws IllegalArgumentException when the reduction cannot take a map of that shape (the message says why)
     */
    long rowLength(List<Long> mapShape);

    /**
     * The rows of a batch of maps: {@code maps} is contiguous float32 [B, C, H, W] (or [B, C]) on its device
     * (the model's); the result is float32 [B, F] on the same device, F = {@link #rowLength} of its shape. Called
     * inside a {@link org.bytedeco.javacpp.PointerScope}, in LibTorch's inference mode. It must be a pure
     * function of the maps (the same maps give the same bytes), as resumed runs and merged partitions rely on it.
     */
    Tensor reduce(Tensor maps);
}
