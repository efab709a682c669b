// CUDA twins of the CPU kernels: same semantics and, through the shared headers in native/common
// (Philox + float Box-Muller, pool summation order, top-k composite keys), the same bits.
// Arguments are checked in native/cpu/api.cpp; every launch goes to the caller's stream on the
// caller's device, and every CUDA return code is checked and handed back with its message.
#include "backend.h"
#include "diffrep_ops.h"
#include "philox.h"
#include "pool_order.h"
#include "topk_key.h"

#include <cuda_runtime.h>
#include <mutex>
#include <string>

namespace diffrep {

namespace {

constexpr int kThreads = 256;

// Makes `device` current for the scope and restores the caller's device afterwards.
struct DeviceScope {
  int previous = -1;
  cudaError_t err = cudaSuccess;
  explicit DeviceScope(int device) {
    err = cudaGetDevice(&previous);
    if (err == cudaSuccess && previous != device) err = cudaSetDevice(device);
  }
  ~DeviceScope() {
    if (previous >= 0) cudaSetDevice(previous);
  }
};

int report(cudaError_t err, const char** msg) {
  if (err == cudaSuccess) return 0;
  if (msg) *msg = cudaGetErrorString(err);
  return (int)err;
}

// Launch error first, then nothing else: kernels run asynchronously on the caller's stream.
int after_launch(const char** msg) { return report(cudaGetLastError(), msg); }

unsigned grid_for(int64_t work, int threads) {
  const int64_t blocks = (work + threads - 1) / threads;
  return (unsigned)(blocks < 65535 * 32 ? (blocks < 1 ? 1 : blocks) : 65535 * 32);
}

// ---------------------------------------------------------------------------------------------
// Noise: one thread per block of four elements (grid-stride over all output blocks).
// ---------------------------------------------------------------------------------------------

__global__ void noise_kernel(const float* __restrict__ x0, int64_t n, int64_t d, const float* __restrict__ sigmas,
                             const float* __restrict__ scales, int64_t s, const int64_t* __restrict__ ids,
                             uint64_t seed, int clean, float* __restrict__ out) {
  const int64_t blocks = (d + 3) / 4;
  const int64_t total = s * n * blocks;
  for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < total; q += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = q / blocks, b = q % blocks;
    const int64_t j = row / n, i = row % n;
    const float sc = scales ? scales[j] : 1.0f;
    const float* xr = x0 + i * d;
    float* o = out + row * d;
    const int64_t k0 = b * 4;
    const int m = (int)(d - k0 < 4 ? d - k0 : 4);
    if (clean) {
      for (int t = 0; t < m; ++t) o[k0 + t] = sc * xr[k0 + t];
      continue;
    }
    const uint64_t id = ids ? (uint64_t)ids[i] : (uint64_t)i;
    float z[4];
    normal4(seed, id, (uint32_t)j, (uint32_t)b, z);
    const float sig = sigmas[j];
    for (int t = 0; t < m; ++t) o[k0 + t] = sc * (xr[k0 + t] + sig * z[t]);
  }
}

// ---------------------------------------------------------------------------------------------
// Pool: a half-warp per row; lane l sums positions l, l + 16, ... (pool_order.h) and the xor
// shuffles 8, 4, 2, 1 add the lanes in the CPU's tree order.
// ---------------------------------------------------------------------------------------------

__global__ void pool_kernel(const float* __restrict__ x, int64_t rows, int64_t hw, float* __restrict__ mean,
                            float* __restrict__ max, float* __restrict__ active, float threshold) {
  const int lane = threadIdx.x & (kPoolLanes - 1);
  const int half = (threadIdx.x & 31) / kPoolLanes;
  const int64_t warp = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32;
  const int64_t warps = (int64_t)gridDim.x * blockDim.x / 32;
  const float fhw = (float)hw;
  // Two rows per warp per step; the loop bound is the same for the whole warp, so the shuffles
  // below always have all 32 lanes.
  for (int64_t base = 2 * warp; base < rows; base += 2 * warps) {
    const int64_t r = base + half;
    const bool live = r < rows;
    float acc = 0.0f, mx = -INFINITY;
    int above = 0, nans = 0;
    if (live) {
      const float* p = x + r * hw;
      for (int64_t t = lane; t < hw; t += kPoolLanes) {
        const float v = __ldg(p + t);
        acc = acc + v;
        mx = pool_max(mx, v);
        above += v > threshold;
        nans += v != v;
      }
    }
    for (int off = kPoolLanes / 2; off >= 1; off >>= 1) {
      acc = acc + __shfl_xor_sync(0xffffffffu, acc, off, kPoolLanes);
      const float om = __shfl_xor_sync(0xffffffffu, mx, off, kPoolLanes);
      mx = pool_max(mx, om);
      above += __shfl_xor_sync(0xffffffffu, above, off, kPoolLanes);
      nans += __shfl_xor_sync(0xffffffffu, nans, off, kPoolLanes);
    }
    if (live && lane == 0) {
      mean[r] = acc / fhw;
      if (max) max[r] = nans ? NAN : pool_max_result(mx);
      if (active) active[r] = (float)above / fhw;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Top-k: a block per row. Radix select (4 passes of 8 bits over the 32-bit keys) finds the key T
// of the k-th element; the elements above T and the first (in index order) of those equal to T
// are gathered as composite keys into the indices array, which then serves as the buffer of an
// in-place bitonic sort (descending; composites are distinct, so the order is unique and the
// same as the CPU's). Finally each composite is decoded to its index and value.
// ---------------------------------------------------------------------------------------------

__device__ __forceinline__ uint32_t key_at(const float* row, int64_t t, int by) { return topk_key(__ldg(row + t), by); }

__global__ void topk_kernel(const float* __restrict__ x, int64_t n, int64_t c, int64_t k, int by,
                            float* __restrict__ values, int64_t* __restrict__ indices) {
  __shared__ unsigned hist[256];
  __shared__ uint32_t s_prefix, s_mask;
  __shared__ int64_t s_need, s_pos, s_eq_seen;
  __shared__ int s_warp_sum[kThreads / 32];
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const float* row = x + i * c;
    uint64_t* buf = reinterpret_cast<uint64_t*>(indices + i * k);
    if (threadIdx.x == 0) {
      s_prefix = 0;
      s_mask = 0;
      s_need = k;  // how many of the elements matching the prefix are still to take
    }
    __syncthreads();
    for (int shift = 24; shift >= 0; shift -= 8) {
      for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0;
      __syncthreads();
      const uint32_t prefix = s_prefix, mask = s_mask;
      for (int64_t t = threadIdx.x; t < c; t += blockDim.x) {
        const uint32_t key = key_at(row, t, by);
        if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        int64_t need = s_need;
        int b = 255;
        for (; b > 0 && (int64_t)hist[b] < need; --b) need -= hist[b];
        s_prefix = prefix | ((uint32_t)b << shift);
        s_mask = mask | (255u << shift);
        s_need = need;
      }
      __syncthreads();
    }
    const uint32_t T = s_prefix;
    const int64_t need_eq = s_need;  // elements equal to T to take, lowest indices first
    const int64_t above = k - need_eq;
    if (threadIdx.x == 0) {
      s_pos = 0;
      s_eq_seen = 0;
    }
    __syncthreads();
    // Elements above T: any order (the sort follows).
    for (int64_t t = threadIdx.x; t < c; t += blockDim.x) {
      const float v = __ldg(row + t);
      if (topk_key(v, by) > T) {
        const unsigned long long slot = atomicAdd(reinterpret_cast<unsigned long long*>(&s_pos), 1ull);
        buf[slot] = topk_composite(v, (uint32_t)t, by);
      }
    }
    // Elements equal to T, in index order: a block-wide prefix count per chunk of blockDim.
    const int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
    for (int64_t t0 = 0; t0 < c; t0 += blockDim.x) {
      const int64_t t = t0 + threadIdx.x;
      const bool eq = t < c && key_at(row, t, by) == T;
      const unsigned ballot = __ballot_sync(0xffffffffu, eq);
      if (lane == 0) s_warp_sum[warp] = __popc(ballot);
      __syncthreads();
      int64_t rank = s_eq_seen + __popc(ballot & ((1u << lane) - 1u));
      int64_t chunk_total = 0;
      for (int w = 0; w < (int)(blockDim.x / 32); ++w) {
        if (w < warp) rank += s_warp_sum[w];
        chunk_total += s_warp_sum[w];
      }
      if (eq && rank < need_eq) buf[above + rank] = topk_composite(__ldg(row + t), (uint32_t)t, by);
      __syncthreads();
      if (threadIdx.x == 0) s_eq_seen += chunk_total;
      __syncthreads();
      if (s_eq_seen >= need_eq) break;
    }
    __syncthreads();
    // Bitonic sort, descending, over k entries padded (virtually) to a power of two with the
    // smallest value: in the variant where every merge starts by comparing i with its mirror,
    // all comparators point the same way, so a pair that reaches past k needs no exchange.
    int64_t pow2 = 1;
    while (pow2 < k) pow2 <<= 1;
    for (int64_t size = 2; size <= pow2; size <<= 1) {
      for (int64_t stride = size / 2; stride > 0; stride >>= 1) {
        for (int64_t a = threadIdx.x; a < pow2 / 2; a += blockDim.x) {
          int64_t lo, hi;
          if (stride == size / 2) {  // mirror comparison within each block of `size`
            const int64_t blk = a / stride, off = a % stride;
            lo = blk * size + off;
            hi = blk * size + size - 1 - off;
          } else {
            const int64_t blk = a / stride, off = a % stride;
            lo = blk * 2 * stride + off;
            hi = lo + stride;
          }
          if (hi < k) {
            const uint64_t u = buf[lo], w = buf[hi];
            if (u < w) {
              buf[lo] = w;
              buf[hi] = u;
            }
          }
        }
        __syncthreads();
      }
    }
    for (int64_t t = threadIdx.x; t < k; t += blockDim.x) {
      const uint32_t idx = topk_index(buf[t]);
      values[i * k + t] = __ldg(row + idx);
      indices[i * k + t] = (int64_t)idx;
    }
    __syncthreads();
  }
}

int launch_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices,
                cudaStream_t st, const char** msg) {
  const unsigned grid = (unsigned)(n < 65535 * 16 ? n : 65535 * 16);
  topk_kernel<<<grid, kThreads, 0, st>>>(x, n, c, k, by, values, indices);
  return after_launch(msg);
}

int launch_pool(const float* x, int64_t n, int64_t c, int64_t hw, float* mean, float* max, float* active,
                float threshold, cudaStream_t st, const char** msg) {
  pool_kernel<<<grid_for(n * c * kPoolLanes, kThreads), kThreads, 0, st>>>(x, n * c, hw, mean, max, active, threshold);
  return after_launch(msg);
}

std::once_flag count_once;
int count_cached = 0;
std::string count_why;

}  // namespace

int cuda_device_count(const char** why) {
  std::call_once(count_once, [] {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice) {
      count_cached = 0;
      count_why = err == cudaErrorNoDevice ? "no CUDA device" : "no CUDA driver (or one too old for this runtime)";
    } else if (err != cudaSuccess) {
      count_cached = 0;
      count_why = std::string("CUDA unusable: ") + cudaGetErrorString(err);
    } else {
      count_cached = count;
      int runtime = 0, driver = 0;
      cudaRuntimeGetVersion(&runtime);
      cudaDriverGetVersion(&driver);
      count_why = "runtime " + std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10) +
                  ", driver " + std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10);
    }
    cudaGetLastError();  // the failed probe must not look like a later kernel's error
  });
  if (why) *why = count_why.c_str();
  return count_cached;
}

int cuda_noise_inject(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales, int64_t s,
                      const int64_t* ids, uint64_t seed, int clean, float* out, int device, void* stream,
                      const char** msg) {
  DeviceScope scope(device);
  if (scope.err != cudaSuccess) return report(scope.err, msg);
  const int64_t quads = s * n * ((d + 3) / 4);
  noise_kernel<<<grid_for(quads, kThreads), kThreads, 0, (cudaStream_t)stream>>>(x0, n, d, sigmas, scales, s, ids, seed,
                                                                                   clean, out);
  return after_launch(msg);
}

int cuda_pool(const float* x, int64_t n, int64_t c, int64_t hw, float* mean, float* max, float* active,
              float threshold, int device, void* stream, const char** msg) {
  DeviceScope scope(device);
  if (scope.err != cudaSuccess) return report(scope.err, msg);
  return launch_pool(x, n, c, hw, mean, max, active, threshold, (cudaStream_t)stream, msg);
}

int cuda_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices, int device,
              void* stream, const char** msg) {
  DeviceScope scope(device);
  if (scope.err != cudaSuccess) return report(scope.err, msg);
  return launch_topk(x, n, c, k, by, values, indices, (cudaStream_t)stream, msg);
}

int cuda_pool_topk(const float* x, int64_t n, int64_t c, int64_t hw, int64_t k, int by, float* mean, float* values,
                   int64_t* indices, int device, void* stream, const char** msg) {
  DeviceScope scope(device);
  if (scope.err != cudaSuccess) return report(scope.err, msg);
  cudaStream_t st = (cudaStream_t)stream;
  // Without a caller's mean, a stream-ordered scratch buffer holds it.
  float* m = mean;
  if (!m) {
    cudaError_t err = cudaMallocAsync(reinterpret_cast<void**>(&m), (size_t)(n * c) * sizeof(float), st);
    if (err != cudaSuccess) return report(err, msg);
  }
  int rc = launch_pool(x, n, c, hw, m, nullptr, nullptr, 0.0f, st, msg);
  if (rc == 0) rc = launch_topk(m, n, c, k, by, values, indices, st, msg);
  if (!mean) {
    cudaError_t err = cudaFreeAsync(m, st);
    if (rc == 0 && err != cudaSuccess) rc = report(err, msg);
  }
  return rc;
}

}  // namespace diffrep
