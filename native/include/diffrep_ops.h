/*
 * diffrep_ops.h: the C ABI of diffrep's native kernels. This header is the whole contract
 * between Java (org.diffrep.ops.NativeOps) and native code; CPU and CUDA implementations sit
 * behind the same functions and keep the same semantics.
 *
 * Conventions
 * - Tensors are dense, row-major (C-contiguous) float32 (indices: int64).
 * - `device` is DIFFREP_DEVICE_CPU (-1) for host memory, or a CUDA device ordinal (>= 0); then
 *   every pointer argument is device memory on that device and `stream` is the cudaStream_t to
 *   launch on (NULL: the legacy default stream). CUDA calls are asynchronous on that stream.
 * - Every function validates its arguments and returns DIFFREP_OK (0) or an error code; it never
 *   aborts. diffrep_last_error() then holds a message for the calling thread.
 * - Sizes are int64_t; a size of 0 is valid and does nothing.
 */
#ifndef DIFFREP_OPS_H
#define DIFFREP_OPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DIFFREP_ABI_VERSION 3

#define DIFFREP_OK 0
#define DIFFREP_EINVAL 1   /* bad argument (null pointer, negative size, k > c, ...) */
#define DIFFREP_ENOCUDA 2  /* a CUDA device was asked for but CUDA is not compiled in or usable */
#define DIFFREP_ECUDA 3    /* the CUDA runtime reported an error */
#define DIFFREP_ENOLIB 4   /* a user library could not be loaded, or lacks the symbol asked for */
#define DIFFREP_EUSER 5    /* a user reduction returned an error (its message is passed on) */

#define DIFFREP_DEVICE_CPU (-1)

#define DIFFREP_TOPK_VALUE 0      /* rank by value */
#define DIFFREP_TOPK_MAGNITUDE 1  /* rank by |value|; the signed values are returned */

/* ABI version of the loaded library (DIFFREP_ABI_VERSION when it was built). */
int diffrep_abi_version(void);

/* 1 when the CUDA kernels were compiled into this library, else 0. */
int diffrep_cuda_compiled(void);

/* Number of usable CUDA devices; 0 when CUDA is not compiled in, or there is no driver or GPU.
 * Never fails, never aborts. */
int diffrep_cuda_device_count(void);

/* One line saying why CUDA is or is not usable ("CUDA 13.0, 1 device", "no CUDA driver", ...). */
const char* diffrep_cuda_status(void);

/*
 * The instruction set the CPU kernels run with: "avx512", "avx2" or "portable" (baseline x86-64).
 * Chosen once when the library loads: the best the CPU has, or the one the environment variable
 * DIFFREP_CPU_ISA names (avx512, avx2, portable, auto), for measuring and testing a path on a newer
 * CPU; a name the CPU cannot run falls back to the best. Every path gives the same results, bit for
 * bit for noise and pool. (ABI 3)
 */
const char* diffrep_cpu_isa(void);

/* One line: the instruction set and why ("avx2 (DIFFREP_CPU_ISA=avx2; this CPU has avx512)"). */
const char* diffrep_cpu_isa_status(void);

/* Switches the CPU kernels' instruction set, process-wide: "avx512", "avx2", "portable", or NULL /
 * "auto" for the best. DIFFREP_EINVAL for another name or one this CPU cannot run. (ABI 3) */
int diffrep_set_cpu_isa(const char* isa);

/* Threads of the CPU kernels (OpenMP); n <= 0 means all cores. Process-wide. */
void diffrep_set_num_threads(int n);
int diffrep_get_num_threads(void);

/* Message of the last failed call on this thread ("" if none). */
const char* diffrep_last_error(void);

/*
 * Noise injection over a grid of noise levels, all levels in one call.
 *   out[j, i, k] = scale_j * (x0[i, k] + sigma_j * eps(seed, id_i, j, k))
 * x0 [n, d]; sigmas [s]; scales [s] or NULL (all 1); ids [n] or NULL (id_i = i); out [s, n, d].
 * clean != 0 skips eps: out[j, i, k] = scale_j * x0[i, k].
 * eps is a standard normal from Philox4x32-10 with key (seed low 32 bits, seed high 32 bits) and
 * counter (k / 4, j, id low 32 bits, id high 32 bits); the block's four uint32 words give two
 * Box-Muller pairs, element k takes output k % 4. So a sample's noise depends only on
 * (seed, id, j, k): not on the batch, the order, the thread count or the device.
 */
int diffrep_noise_inject(const float* x0, int64_t n, int64_t d,
                         const float* sigmas, const float* scales, int64_t s,
                         const int64_t* ids, uint64_t seed, int clean,
                         float* out, int device, void* stream);

/*
 * Spatial pooling in one pass over x [n, c, hw]:
 *   mean[i, c] = mean over positions; max[i, c] = maximum (optional, NULL to skip);
 *   active[i, c] = share of positions with x > threshold (optional, NULL to skip).
 * hw must be >= 1. The mean is summed in float in a fixed order (16 strided lane sums added as a
 * tree; native/common/pool_order.h), identical on CPU and GPU; max is NaN when any position is NaN
 * and +0 when it is zero; NaN is never active.
 */
int diffrep_pool(const float* x, int64_t n, int64_t c, int64_t hw,
                 float* mean, float* max, float* active, float threshold,
                 int device, void* stream);

/*
 * Top-k per row of x [n, c], 1 <= k <= c: values [n, k] and indices [n, k] (int64), sorted
 * descending by value (by = DIFFREP_TOPK_VALUE) or by |value| (DIFFREP_TOPK_MAGNITUDE, signed
 * values returned). Ties go to the lower index; -0 and +0 tie. NaN ranks above every number (as
 * torch.topk). c must be < 2^32. CPU and GPU return identical values and indices.
 */
int diffrep_topk(const float* x, int64_t n, int64_t c, int64_t k, int by,
                 float* values, int64_t* indices, int device, void* stream);

/*
 * Pooling and top-k fused: the spatial mean of x [n, c, hw] and its top-k per row, in one pass
 * over x. mean [n, c] is optional (NULL: not written); values/indices [n, k] as diffrep_topk.
 */
int diffrep_pool_topk(const float* x, int64_t n, int64_t c, int64_t hw, int64_t k, int by,
                      float* mean, float* values, int64_t* indices, int device, void* stream);

/*
 * User reductions in a shared library (docs/KERNELS.md). diffrep dlopens `library` (a path) and
 * looks up two functions with C linkage: `symbol` and `symbol` + "_rows". A library exports, e.g.
 * for symbol "diffrep_reduction":
 *
 *   int64_t diffrep_reduction_rows(const int64_t* map_shape, int32_t ndim);
 *       The row length F for a feature map of shape map_shape[0..ndim) ([C, H, W], ndim 3; or
 *       [C], ndim 1), without the batch. A value < 1 refuses the shape.
 *   int diffrep_reduction(const float* x, const int64_t* shape, const int64_t* strides,
 *                         int32_t ndim, float* out, int64_t f, int32_t device, void* stream,
 *                         char* error, int64_t error_size);
 *       x: float32 [B, C, H, W] (ndim 4; or [B, C], ndim 2) with strides in elements (the map
 *       diffrep passes is contiguous, but a kernel should honour the strides); out: float32
 *       [B, f], contiguous, f as the _rows function said. device -1: host memory; >= 0: CUDA
 *       device memory, stream the cudaStream_t to launch on. Returns 0, or non-zero after
 *       writing a NUL-terminated message of at most error_size bytes into error.
 *
 * Libraries stay loaded once opened (a handle per path, for the life of the process).
 */
typedef int64_t (*diffrep_reduction_rows_fn)(const int64_t* map_shape, int32_t ndim);
typedef int (*diffrep_reduction_fn)(const float* x, const int64_t* shape, const int64_t* strides, int32_t ndim,
                                    float* out, int64_t f, int32_t device, void* stream, char* error,
                                    int64_t error_size);

/* F of `symbol` (through `symbol`_rows) in `library` for a map of shape map_shape [ndim]: *rows. */
int diffrep_ext_rows(const char* library, const char* symbol, const int64_t* map_shape, int32_t ndim,
                     int64_t* rows);

/* Calls `symbol` in `library` on x [shape] (strides in elements) into out [shape[0], f]. */
int diffrep_ext_reduce(const char* library, const char* symbol, const float* x, const int64_t* shape,
                       const int64_t* strides, int32_t ndim, float* out, int64_t f, int device, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* DIFFREP_OPS_H */
