package org.diffrep.extract;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.diffrep.InvalidInputException;
import org.diffrep.model.Denoiser;
import org.diffrep.noise.Seeds;
import org.diffrep.ops.Devices;
import org.diffrep.ops.Kernels;
import org.diffrep.ops.Tensors;
import org.diffrep.ops.UserKernelException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The features of one batch of images as the {@link Extractor} computes them (noise, forwards cut at the
 * run's fixed row boundaries, pooling, top-k), without a store: the Extractor writes them into shards, Spark's
 * DiffrepFeatures transformer into DataFrame columns. One class, so that both give the same numbers.
 *
 * <p>Not thread-safe (the timing counters); one per run or per task. Tensors are created in the caller's
 * {@link org.bytedeco.javacpp.PointerScope}.
 */
public final class BatchFeatures {

    private final ExtractConfig cfg;
    private final Map<String, Reductions.Selected> reductions = new LinkedHashMap<>();
    private Device device;
    /** Nanoseconds spent in noise and forwards, and in pooling, so far. */
    long forwardNanos, poolNanos;

    public BatchFeatures(ExtractConfig cfg) {
        this.cfg = cfg;
    }

    /**
     * Pooled features of a batch, per layer {mean, max or null, flattened map or null, top-k values or null,
     * top-k indices or null}, rows sample-major ({@code n*S} rows: image i, sigma j at row {@code i*S + j});
     * {@link #sigmaRows} takes one sigma's rows out.
     *
     * <p>Row layout: the run's selected images form one sample-major stream of (image, sigma)
     * rows, image of rank g and sigma j at global row {@code g*S + j}, and that stream is cut into
     * forwards of exactly {@code forwardRows} rows at fixed global boundaries. A row therefore
     * always sits at the same position of a forward of the same size, whatever the batch size, the
     * shard or where a resumed run starts: GEMM and convolution kernels choose their tiling by
     * shape and some round by a row's position in the tile (OpenBLAS's AVX2 kernels do), so
     * shape and position are what must not change. A forward that straddles two batches is run
     * once for each, with the other batch's rows left as zeros; its rows of this batch are the
     * same either way.
     *
     * @param images float32 [n, C, H, W] in [-1, 1]
     * @param ids    the images' dataset indices: they key the noise (noisy input)
     * @param first  rank of the batch's first image among the run's selected images (for a partition, its
     *               rank in the whole run, not in the partition)
     */
    public Map<String, Tensor[]> pooled(Denoiser model, Tensor images, long[] ids, long first) {
        int n = ids.length;
        float[] sigmas = cfg.sigmas();
        int s = sigmas.length;
        long rows = (long) s * n;
        int f = cfg.forwardRows();
        Tensor x = onDevice(images).contiguous();
        Tensor idT = onDevice(Tensors.fromLongs(ids));
        Set<String> taps = ConcatTaps.forwardTaps(cfg.layers());
        boolean clean = cfg.input() == InputMode.CLEAN;
        int draws = clean ? 1 : cfg.noiseDraws();
        long rowFrom = first * s, rowTo = rowFrom + rows;

        Map<String, Tensor[]> acc = new LinkedHashMap<>();
        for (int r = 0; r < draws; r++) {
            // Noise for all sigmas of the batch in one kernel call: [S, n, ...], eps keyed by (seed_r, id, j);
            // then sample-major [n*S, ...] so that rows follow the global layout.
            long f0 = System.nanoTime();
            Tensor noisy = Kernels.noiseInject(x, sigmas, null, idT, drawSeed(r), clean);
            long[] inShape = Tensors.shape(noisy);
            long[] flatShape = new long[inShape.length - 1];
            flatShape[0] = rows;
            System.arraycopy(inShape, 2, flatShape, 1, flatShape.length - 1);
            Tensor all = noisy.transpose(0, 1).contiguous().reshape(flatShape);
            forwardNanos += System.nanoTime() - f0;
            Map<String, List<Tensor[]>> pieces = new LinkedHashMap<>();
            for (long q0 = Math.floorDiv(rowFrom, f) * f; q0 < rowTo; q0 += f) {
                long a = Math.max(q0, rowFrom), e = Math.min(q0 + f, rowTo);
                int lead = (int) (a - q0), len = (int) (e - a), tail = (int) (q0 + f - e);
                long fa = System.nanoTime();
                Tensor in = all.narrow(0, a - rowFrom, len);
                if (lead > 0 || tail > 0) {
                    TensorVector parts = new TensorVector();
                    if (lead > 0) {
                        parts.push_back(zeros(flatShape, lead, in));
                    }
                    parts.push_back(in);
                    if (tail > 0) {
                        parts.push_back(zeros(flatShape, tail, in));
                    }
                    in = torch.cat(parts, 0);
                }
                float[] sig = new float[f];
                for (int p = 0; p < f; p++) {
                    sig[p] = sigmas[(int) Math.floorMod(q0 + p, (long) s)];
                }
                Denoiser.Output out = model.forward(in, onDevice(Tensors.fromFloats(sig)), taps, false);
                forwardNanos += System.nanoTime() - fa;
                long pa = System.nanoTime();
                for (String layer : cfg.layers()) {
                    Tensor[] pooled;
                    if (ConcatTaps.isConcat(layer)) {
                        pooled = poolConcat(layer, out.taps(), lead, len, f);
                    } else {
                        Tensor tap = out.taps().get(layer);
                        pooled = pool(layer, len < f ? tap.narrow(0, lead, len) : tap);
                    }
                    pieces.computeIfAbsent(layer, k -> new ArrayList<>()).add(pooled);
                }
                poolNanos += System.nanoTime() - pa;
            }
            long pa = System.nanoTime();
            for (String layer : cfg.layers()) {
                Tensor[] pooled = concat(pieces.get(layer));
                Tensor[] sum = acc.get(layer);
                if (sum == null) {
                    acc.put(layer, pooled);
                } else {
                    for (int k = 0; k < sum.length; k++) {
                        if (sum[k] != null) {
                            sum[k].add_(pooled[k]);
                        }
                    }
                }
            }
            poolNanos += System.nanoTime() - pa;
        }
        if (draws > 1) {
            for (Tensor[] sum : acc.values()) {
                for (Tensor a : sum) {
                    if (a != null) {
                        a.div_(new Scalar((double) draws));
                    }
                }
            }
        }
        if (device() != null) {
            // rows are written (or handed to Spark) from the CPU
            for (Tensor[] sum : acc.values()) {
                for (int k = 0; k < sum.length; k++) {
                    if (sum[k] != null) {
                        sum[k] = sum[k].cpu();
                    }
                }
            }
        }
        return acc;
    }

    /** Zero rows to pad a forward: {@code count} rows of the input's row shape. */
    private static Tensor zeros(long[] flatShape, int count, Tensor like) {
        long[] shape = flatShape.clone();
        shape[0] = count;
        return torch.zeros(shape, like.options());
    }

    /** Rows of sigma j (every S-th row from j) of each pooled tensor of a batch in sample-major order. */
    public static Tensor[] sigmaRows(Tensor[] pooled, int n, int s, int j) {
        Tensor[] out = new Tensor[pooled.length];
        for (int k = 0; k < pooled.length; k++) {
            if (pooled[k] != null) {
                out[k] = pooled[k].reshape(n, s, -1).select(1, j).contiguous();
            }
        }
        return out;
    }

    /**
     * Each tap's reduction: the configured pool, or what {@link ExtractConfig#reduce} names. Resolved once (the
     * registry is loaded only when a tap names one); a missing kernel or a CUDA kernel without a GPU is an input
     * error here, before any work.
     */
    /**
     * Moves the model to the configured device after checking that LibTorch and the native kernels can use it; on
     * the CPU (the default) it does nothing.
     *
     * @throws InvalidInputException naming {@code device} when no usable GPU is there, with the way out
     */
    public void moveModel(Denoiser model) {
        if (device() == null) {
            return;
        }
        if (!Devices.torchCudaAvailable()) {
            throw InvalidInputException.field("device", InvalidInputException.literal(cfg.device())
                    + ": LibTorch sees no CUDA device (the default build is CPU-only: build with 'mvn -Pgpu package'"
                    + " on a machine with an NVIDIA driver), or use cpu");
        }
        long count = torch.cuda_device_count();
        if (device.index() >= count) {
            throw InvalidInputException.field("device", InvalidInputException.literal(cfg.device()) + ": LibTorch sees "
                    + count + " CUDA device(s), cuda:0 .. cuda:" + (count - 1));
        }
        if (!Devices.cudaKernelsUsable()) {
            throw InvalidInputException.field("device", InvalidInputException.literal(cfg.device())
                    + ": the native library has no usable CUDA kernels (" + Devices.nativeCudaStatus()
                    + "); build it with nvcc on the PATH, or use cpu");
        }
        model.to(device);
    }

    /** The configured GPU, or null for the CPU. */
    private Device device() {
        if (device == null && !"cpu".equals(cfg.device())) {
            device = new Device(cfg.device());
        }
        return device;
    }

    /** {@code t} on the configured device (itself on the CPU). */
    Tensor onDevice(Tensor t) {
        return device() == null ? t : t.to(device, t.scalar_type());
    }

    Map<String, Reductions.Selected> reductions() {
        if (reductions.isEmpty()) {
            Reductions registry = cfg.reduce().isEmpty() && cfg.kernelFiles().isEmpty() ? null
                    : Reductions.load(cfg.kernelFiles());
            for (String layer : cfg.layers()) {
                String name = cfg.reduce().get(layer);
                Reductions.Selected sel = registry == null || name == null
                        ? new Reductions.Selected(new BuiltinReduction(cfg.pool()),
                        new ReductionRecord(cfg.pool().id(), "builtin", null, null), cfg.pool())
                        : registry.select(name, layer);
                if (sel.reduction() instanceof KernelFileReduction.Cuda cuda) {
                    try {
                        cuda.prepare();
                    } catch (UserKernelException e) {
                        throw KernelFileReduction.asInput(e, sel.record().toString());
                    }
                }
                reductions.put(layer, sel);
            }
        }
        return reductions;
    }

    /**
     * Reduces one tap [M, C, H, W] (or [M, C]) into {mean or the reduction's rows, max or null, flattened map or
     * null, top-k values or null, top-k indices or null}. A built-in pool runs the native kernels (with top-k and
     * mean pooling of one draw, the fused pool+top-k kernel gives the mean and the top-k); any other reduction
     * gives the rows, whose top-k (if asked for) the Extractor takes when it writes them.
     */
    private Tensor[] pool(String layer, Tensor tap) {
        // float32, as the kernels take it: a TorchScript model may return its taps in another float type
        Tensor m = tap.to(torch.ScalarType.Float).contiguous();
        long rowsM = m.size(0);
        Pooling pooling = reductions().get(layer).builtin();
        if (pooling == null) {
            return new Tensor[]{userRows(layer, m), null, null, null, null};
        }
        Tensor maps = m.dim() == 2 ? m.reshape(rowsM, m.size(1), 1) : m;
        Tensor flat = pooling == Pooling.NONE ? m.reshape(rowsM, -1).clone() : null;
        boolean fused = pooling == Pooling.MEAN && cfg.topk() > 0 && cfg.noiseDraws() == 1;
        if (fused) {
            Kernels.PooledTopK pt = Kernels.poolTopk(maps, cfg.topk(), Kernels.Rank.VALUE, true);
            return new Tensor[]{pt.mean(), null, flat, pt.topk().values(), pt.topk().indices()};
        }
        Kernels.Pooled p = Kernels.pool(maps, pooling == Pooling.MEAN_MAX, false, 0f);
        return new Tensor[]{p.mean(), p.max(), flat, null, null};
    }

    /**
     * A concatenated tap ({@link ConcatTaps}): each part pooled with the layer's built-in pooling, side by side in
     * the order named: {mean, max or null, flattened maps or null, null, null}; top-k, if asked for, is taken over
     * the concatenated means when the rows are written.
     */
    private Tensor[] poolConcat(String layer, Map<String, Tensor> taps, int lead, int len, int f) {
        Pooling pooling = reductions().get(layer).builtin();
        TensorVector means = new TensorVector(), maxes = new TensorVector(), flats = new TensorVector();
        for (String part : ConcatTaps.parts(layer)) {
            Tensor tap = taps.get(part);
            Tensor m = (len < f ? tap.narrow(0, lead, len) : tap).to(torch.ScalarType.Float).contiguous();
            long rows = m.size(0);
            Kernels.Pooled p = Kernels.pool(m.dim() == 2 ? m.reshape(rows, m.size(1), 1) : m,
                    pooling == Pooling.MEAN_MAX, false, 0f);
            means.push_back(p.mean());
            if (pooling == Pooling.MEAN_MAX) {
                maxes.push_back(p.max());
            }
            if (pooling == Pooling.NONE) {
                flats.push_back(m.reshape(rows, -1));
            }
        }
        return new Tensor[]{torch.cat(means, 1), pooling == Pooling.MEAN_MAX ? torch.cat(maxes, 1) : null,
                pooling == Pooling.NONE ? torch.cat(flats, 1) : null, null, null};
    }

    /** The rows of a user's reduction for maps m [M, ...], checked to be float32 [M, F] on m's device. */
    private Tensor userRows(String layer, Tensor m) {
        Reductions.Selected sel = reductions().get(layer);
        Tensor rows;
        try {
            rows = sel.reduction().reduce(m);
        } catch (UserKernelException e) {
            throw KernelFileReduction.asInput(e, sel.record().toString());
        } catch (InvalidInputException e) {
            throw e;
        } catch (RuntimeException e) {
            // the user's code, not diffrep: one line naming it (exit 1), not "a bug in diffrep"
            throw new UserKernelException(UserKernelException.Kind.FAILED, "the reduction " + sel.record()
                    + " of layer " + layer + " failed: " + (e.getMessage() == null ? e.toString()
                    : e.getMessage().lines().findFirst().orElse("").strip()), null, e);
        }
        long f = sel.reduction().rowLength(KernelFileReduction.mapShape(m));
        if (rows == null || rows.isNull() || !rows.defined() || rows.dim() != 2 || rows.size(0) != m.size(0)
                || rows.size(1) != f || rows.scalar_type().value != torch.ScalarType.Float.value
                || rows.is_cuda() != m.is_cuda()) {
            throw new UserKernelException(UserKernelException.Kind.FAILED, "the reduction " + sel.record()
                    + " of layer " + layer + " returned "
                    + (rows == null || rows.isNull() || !rows.defined() ? "no tensor" : rows.scalar_type() + " "
                    + Arrays.toString(Tensors.shape(rows)) + (rows.is_cuda() ? " on a GPU" : " on the CPU"))
                    + "; expected Float [" + m.size(0) + ", " + f + "] on the maps' device");
        }
        return rows.contiguous();
    }

    /** Concatenates the pooled pieces of one layer along the rows. */
    private static Tensor[] concat(List<Tensor[]> pieces) {
        if (pieces.size() == 1) {
            return pieces.get(0);
        }
        Tensor[] out = new Tensor[pieces.get(0).length];
        for (int k = 0; k < out.length; k++) {
            if (pieces.get(0)[k] == null) {
                continue;
            }
            TensorVector v = new TensorVector();
            for (Tensor[] p : pieces) {
                v.push_back(p[k]);
            }
            out[k] = torch.cat(v, 0);
        }
        return out;
    }

    /** Seed of noise draw r: the run's seed for the first, derived streams for the others. */
    private long drawSeed(int r) {
        return r == 0 ? cfg.seed() : Seeds.derive(cfg.seed(), r);
    }

}
