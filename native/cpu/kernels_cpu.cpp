// CPU kernels: OpenMP across rows; the inner loops are written so that g++ vectorises them, and
// the hot functions are compiled three times (AVX-512, AVX2, baseline x86-64) with the best one
// picked at load time, so the library stays portable. No clone uses FMA and all of them do the
// same IEEE operations in the same order, so every clone returns the same bits.
#include "backend.h"
#include "diffrep_ops.h"
#include "philox.h"
#include "pool_order.h"
#include "topk_key.h"

#include <omp.h>
#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__x86_64__) && !defined(DIFFREP_NO_CLONES)
#define DIFFREP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DIFFREP_CLONES
#endif

namespace diffrep {

namespace {

// ---------------------------------------------------------------------------------------------
// Noise
// ---------------------------------------------------------------------------------------------

constexpr int64_t kNoiseChunkBlocks = 256;  // 1024 elements: the work unit of one thread

// Elements [4 * blk0, 4 * blk0 + m) of one output row: Philox for all blocks first (one vector
// lane per block), then Box-Muller over the words, then the fused scale-add.
DIFFREP_CLONES
void noise_chunk(const float* xr, float* o, int64_t m, float sig, float sc, uint32_t key0, uint32_t key1,
                 uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t blk0) {
  alignas(64) uint32_t w0[kNoiseChunkBlocks], w1[kNoiseChunkBlocks], w2[kNoiseChunkBlocks], w3[kNoiseChunkBlocks];
  alignas(64) float z[4 * kNoiseChunkBlocks];
  const int64_t nb = (m + 3) / 4;
  for (int64_t b = 0; b < nb; ++b) {
    u32x4 c;
    c.v[0] = blk0 + (uint32_t)b;
    c.v[1] = j;
    c.v[2] = id_lo;
    c.v[3] = id_hi;
    const u32x4 r = philox4x32_10(c, key0, key1);
    w0[b] = r.v[0];
    w1[b] = r.v[1];
    w2[b] = r.v[2];
    w3[b] = r.v[3];
  }
  for (int64_t b = 0; b < nb; ++b) {
    float a0, a1, a2, a3;
    box_muller(w0[b], w1[b], &a0, &a1);
    box_muller(w2[b], w3[b], &a2, &a3);
    z[4 * b] = a0;
    z[4 * b + 1] = a1;
    z[4 * b + 2] = a2;
    z[4 * b + 3] = a3;
  }
  for (int64_t t = 0; t < m; ++t) o[t] = sc * (xr[t] + sig * z[t]);
}

DIFFREP_CLONES
void scale_row(const float* xr, float* o, int64_t m, float sc) {
  for (int64_t t = 0; t < m; ++t) o[t] = sc * xr[t];
}

// ---------------------------------------------------------------------------------------------
// Pool (summation order in pool_order.h, shared with the CUDA kernel)
// ---------------------------------------------------------------------------------------------

DIFFREP_CLONES
float row_sum(const float* p, int64_t hw) {
  float acc[kPoolLanes] = {};
  int64_t t = 0;
  for (; t + kPoolLanes <= hw; t += kPoolLanes)
    for (int l = 0; l < kPoolLanes; ++l) acc[l] += p[t + l];
  for (int l = 0; t + l < hw; ++l) acc[l] += p[t + l];
  return pool_tree_sum(acc);
}

DIFFREP_CLONES
void pool_rows(const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean, float* max, float* active,
               float threshold) {
  const float fhw = (float)hw;
  for (int64_t r = r0; r < r1; ++r) {
    const float* p = x + r * hw;
    float acc[kPoolLanes] = {};
    float mx[kPoolLanes];
    int32_t above[kPoolLanes] = {}, nans[kPoolLanes] = {};
    for (int l = 0; l < kPoolLanes; ++l) mx[l] = -INFINITY;
    int64_t t = 0;
    for (; t + kPoolLanes <= hw; t += kPoolLanes) {
      for (int l = 0; l < kPoolLanes; ++l) {
        const float v = p[t + l];
        acc[l] += v;
        mx[l] = v > mx[l] ? v : mx[l];
        above[l] += v > threshold;
        nans[l] += v != v;
      }
    }
    for (int l = 0; t + l < hw; ++l) {
      const float v = p[t + l];
      acc[l] += v;
      mx[l] = v > mx[l] ? v : mx[l];
      above[l] += v > threshold;
      nans[l] += v != v;
    }
    mean[r] = pool_tree_sum(acc) / fhw;
    if (max) {
      float m = -INFINITY;
      int32_t nn = 0;
      for (int l = 0; l < kPoolLanes; ++l) {
        m = mx[l] > m ? mx[l] : m;
        nn += nans[l];
      }
      max[r] = nn ? NAN : m;
    }
    if (active) {
      int64_t a = 0;
      for (int l = 0; l < kPoolLanes; ++l) a += above[l];
      active[r] = (float)a / fhw;
    }
  }
}

DIFFREP_CLONES
void mean_rows(const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean) {
  const float fhw = (float)hw;
  for (int64_t r = r0; r < r1; ++r) mean[r] = row_sum(x + r * hw, hw) / fhw;
}

// ---------------------------------------------------------------------------------------------
// Top-k (ranking keys in topk_key.h, shared with the CUDA kernel)
// ---------------------------------------------------------------------------------------------

// Does x possibly rank above the row's current k-th (value tv)? A cheap float test, true for
// every element whose key is greater (NaN included); the exact test follows on the few that pass.
DIFFREP_CLONES
bool any_above(const float* p, int64_t m, float tv, int by) {
  int any = 0;
  if (by == DIFFREP_TOPK_MAGNITUDE) {
    const float ta = std::fabs(tv);
    for (int64_t l = 0; l < m; ++l) any |= !(std::fabs(p[l]) <= ta);
  } else {
    for (int64_t l = 0; l < m; ++l) any |= !(p[l] <= tv);
  }
  return any != 0;
}

// Small k: a sorted buffer of the k best composite keys, filled by insertion while scanning the
// row; the scan tests 64 elements at a time against the current k-th with vector compares.
void topk_row_small(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices,
                    uint64_t* buf) {
  for (int64_t t = 0; t < k; ++t) buf[t] = topk_composite(row[t], (uint32_t)t, by);
  std::sort(buf, buf + k, [](uint64_t a, uint64_t b) { return a > b; });
  uint64_t thr = buf[k - 1];
  constexpr int64_t kScan = 64;
  for (int64_t t0 = k; t0 < c && (thr >> 32) != 0xffffffffu; t0 += kScan) {
    const int64_t m = std::min(kScan, c - t0);
    if (!any_above(row + t0, m, row[topk_index(thr)], by)) continue;
    for (int64_t l = 0; l < m; ++l) {
      const uint64_t key = topk_composite(row[t0 + l], (uint32_t)(t0 + l), by);
      if (key <= thr) continue;
      int64_t pos = k - 1;
      while (pos > 0 && buf[pos - 1] < key) {
        buf[pos] = buf[pos - 1];
        --pos;
      }
      buf[pos] = key;
      thr = buf[k - 1];
    }
  }
  for (int64_t t = 0; t < k; ++t) {
    const uint32_t idx = topk_index(buf[t]);
    indices[t] = idx;
    values[t] = row[idx];
  }
}

// Large k: composite keys of the whole row, nth_element, then sort the first k.
void topk_row_large(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices,
                    uint64_t* all) {
  for (int64_t t = 0; t < c; ++t) all[t] = topk_composite(row[t], (uint32_t)t, by);
  auto greater = [](uint64_t a, uint64_t b) { return a > b; };
  if (k < c) std::nth_element(all, all + (k - 1), all + c, greater);
  std::sort(all, all + k, greater);
  for (int64_t t = 0; t < k; ++t) {
    const uint32_t idx = topk_index(all[t]);
    indices[t] = idx;
    values[t] = row[idx];
  }
}

constexpr int64_t kSmallK = 128;

struct TopkScratch {
  std::vector<uint64_t> keys;
  void topk(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices) {
    if (k <= kSmallK) {
      keys.resize((size_t)k);
      topk_row_small(row, c, k, by, values, indices, keys.data());
    } else {
      keys.resize((size_t)c);
      topk_row_large(row, c, k, by, values, indices, keys.data());
    }
  }
};

// Contiguous [begin, end) of `total` rows for this OpenMP thread.
inline void thread_range(int64_t total, int64_t* begin, int64_t* end) {
  const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
  const int64_t q = total / nt, rem = total % nt;
  *begin = t * q + std::min(t, rem);
  *end = *begin + q + (t < rem ? 1 : 0);
}

}  // namespace

void cpu_noise_inject(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales,
                      int64_t s, const int64_t* ids, uint64_t seed, int clean, float* out) {
  const int64_t chunk = 4 * kNoiseChunkBlocks;
  const int64_t chunks = (d + chunk - 1) / chunk;
  const int64_t items = s * n * chunks;
  const uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
  for (int64_t it = 0; it < items; ++it) {
    const int64_t row = it / chunks, ch = it % chunks;
    const int64_t j = row / n, i = row % n;
    const int64_t k0 = ch * chunk, m = std::min(chunk, d - k0);
    const float sc = scales ? scales[j] : 1.0f;
    const float* xr = x0 + i * d + k0;
    float* o = out + row * d + k0;
    if (clean) {
      scale_row(xr, o, m, sc);
      continue;
    }
    const uint64_t id = ids ? (uint64_t)ids[i] : (uint64_t)i;
    noise_chunk(xr, o, m, sigmas[j], sc, key0, key1, (uint32_t)j, (uint32_t)id, (uint32_t)(id >> 32),
                (uint32_t)(k0 / 4));
  }
}

void cpu_pool(const float* x, int64_t n, int64_t c, int64_t hw, float* mean, float* max, float* active,
              float threshold) {
#pragma omp parallel num_threads(cpu_threads())
  {
    int64_t r0, r1;
    thread_range(n * c, &r0, &r1);
    if (max || active) pool_rows(x, r0, r1, hw, mean, max, active, threshold);
    else mean_rows(x, r0, r1, hw, mean);
  }
}

void cpu_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices) {
#pragma omp parallel num_threads(cpu_threads())
  {
    TopkScratch scratch;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) scratch.topk(x + i * c, c, k, by, values + i * k, indices + i * k);
  }
}

void cpu_pool_topk(const float* x, int64_t n, int64_t c, int64_t hw, int64_t k, int by, float* mean,
                   float* values, int64_t* indices) {
#pragma omp parallel num_threads(cpu_threads())
  {
    TopkScratch scratch;
    std::vector<float> row(mean ? 0 : (size_t)c);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      float* m = mean ? mean + i * c : row.data();
      mean_rows(x + i * c * hw, 0, c, hw, m);
      scratch.topk(m, c, k, by, values + i * k, indices + i * k);
    }
  }
}

}  // namespace diffrep
