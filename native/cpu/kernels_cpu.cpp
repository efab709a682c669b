// CPU kernels: OpenMP across rows; the inner loops are written so that g++ vectorises them, and
// the hot functions are compiled three times (AVX-512, AVX2, baseline x86-64) with the best one
// picked at load time, so the library stays portable; Philox has hand-written AVX-512 and AVX2
// (32x32->64-bit multiplies on even and odd lanes), which g++ does not find by itself. No clone uses FMA and all of them do the
// same IEEE operations in the same order, so every clone returns the same bits.
#include "backend.h"
#include "diffrep_ops.h"
#include "philox.h"
#include "pool_order.h"
#include "topk_key.h"

#include <omp.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && !defined(DIFFREP_BASELINE_ONLY)
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

// Philox words of blocks blk0 .. blk0 + nb - 1, one array per output word.
void philox_blocks_scalar(uint32_t blk0, int64_t nb, uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t key0,
                          uint32_t key1, uint32_t* w0, uint32_t* w1, uint32_t* w2, uint32_t* w3) {
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
}

#if defined(__x86_64__)
// The same, eight blocks per step: vpmuludq multiplies the even 32-bit lanes, a 64-bit shift
// brings the odd ones down, blends put the low and high halves back in lane order.
__attribute__((target("avx2")))
void philox_blocks_avx2(uint32_t blk0, int64_t nb, uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t key0,
                        uint32_t key1, uint32_t* w0, uint32_t* w1, uint32_t* w2, uint32_t* w3) {
  const __m256i M0 = _mm256_set1_epi32((int)0xD2511F53u), M1 = _mm256_set1_epi32((int)0xCD9E8D57u);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  int64_t b = 0;
  for (; b + 8 <= nb; b += 8) {
    __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32((int)(blk0 + (uint32_t)b)), lane);
    __m256i c1 = _mm256_set1_epi32((int)j), c2 = _mm256_set1_epi32((int)id_lo), c3 = _mm256_set1_epi32((int)id_hi);
    uint32_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
      const __m256i e0 = _mm256_mul_epu32(c0, M0), o0 = _mm256_mul_epu32(_mm256_srli_epi64(c0, 32), M0);
      const __m256i e1 = _mm256_mul_epu32(c2, M1), o1 = _mm256_mul_epu32(_mm256_srli_epi64(c2, 32), M1);
      const __m256i lo0 = _mm256_blend_epi32(e0, _mm256_slli_epi64(o0, 32), 0xAA);
      const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
      const __m256i lo1 = _mm256_blend_epi32(e1, _mm256_slli_epi64(o1, 32), 0xAA);
      const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
      c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
      c1 = lo1;
      c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
      c3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    _mm256_storeu_si256((__m256i*)(w0 + b), c0);
    _mm256_storeu_si256((__m256i*)(w1 + b), c1);
    _mm256_storeu_si256((__m256i*)(w2 + b), c2);
    _mm256_storeu_si256((__m256i*)(w3 + b), c3);
  }
  philox_blocks_scalar(blk0 + (uint32_t)b, nb - b, j, id_lo, id_hi, key0, key1, w0 + b, w1 + b, w2 + b, w3 + b);
}

// GCC 12 warns about its own _mm512_undefined_epi32() inside the intrinsics (a known false alarm).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f")))
void philox_blocks_avx512(uint32_t blk0, int64_t nb, uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t key0,
                          uint32_t key1, uint32_t* w0, uint32_t* w1, uint32_t* w2, uint32_t* w3) {
  const __m512i M0 = _mm512_set1_epi32((int)0xD2511F53u), M1 = _mm512_set1_epi32((int)0xCD9E8D57u);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int64_t b = 0;
  for (; b + 16 <= nb; b += 16) {
    __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32((int)(blk0 + (uint32_t)b)), lane);
    __m512i c1 = _mm512_set1_epi32((int)j), c2 = _mm512_set1_epi32((int)id_lo), c3 = _mm512_set1_epi32((int)id_hi);
    uint32_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
      const __m512i e0 = _mm512_mul_epu32(c0, M0), o0 = _mm512_mul_epu32(_mm512_srli_epi64(c0, 32), M0);
      const __m512i e1 = _mm512_mul_epu32(c2, M1), o1 = _mm512_mul_epu32(_mm512_srli_epi64(c2, 32), M1);
      const __m512i lo0 = _mm512_mask_blend_epi32(0xAAAA, e0, _mm512_slli_epi64(o0, 32));
      const __m512i hi0 = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(e0, 32), o0);
      const __m512i lo1 = _mm512_mask_blend_epi32(0xAAAA, e1, _mm512_slli_epi64(o1, 32));
      const __m512i hi1 = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(e1, 32), o1);
      c0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32((int)k0), 0x96);  // three-way xor
      c1 = lo1;
      c2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32((int)k1), 0x96);
      c3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    _mm512_storeu_si512((void*)(w0 + b), c0);
    _mm512_storeu_si512((void*)(w1 + b), c1);
    _mm512_storeu_si512((void*)(w2 + b), c2);
    _mm512_storeu_si512((void*)(w3 + b), c3);
  }
  philox_blocks_avx2(blk0 + (uint32_t)b, nb - b, j, id_lo, id_hi, key0, key1, w0 + b, w1 + b, w2 + b, w3 + b);
}
#pragma GCC diagnostic pop

#if defined(DIFFREP_BASELINE_ONLY)  // for testing the fallback paths on a newer CPU
const bool kHaveAvx512 = false, kHaveAvx2 = false;
#else
const bool kHaveAvx512 = __builtin_cpu_supports("avx512f");
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif
#endif

void philox_blocks(uint32_t blk0, int64_t nb, uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t key0,
                   uint32_t key1, uint32_t* w0, uint32_t* w1, uint32_t* w2, uint32_t* w3) {
#if defined(__x86_64__)
  if (kHaveAvx512) return philox_blocks_avx512(blk0, nb, j, id_lo, id_hi, key0, key1, w0, w1, w2, w3);
  if (kHaveAvx2) return philox_blocks_avx2(blk0, nb, j, id_lo, id_hi, key0, key1, w0, w1, w2, w3);
#endif
  philox_blocks_scalar(blk0, nb, j, id_lo, id_hi, key0, key1, w0, w1, w2, w3);
}

// Box-Muller over the words, then the fused scale-add, for m elements of one output row.
DIFFREP_CLONES
void noise_finish(const uint32_t* w0, const uint32_t* w1, const uint32_t* w2, const uint32_t* w3, const float* xr,
                  float* o, int64_t m, float sig, float sc) {
  alignas(64) float z[4 * kNoiseChunkBlocks];
  const int64_t nb = (m + 3) / 4;
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

// Elements [4 * blk0, 4 * blk0 + m) of one output row (m <= 4 * kNoiseChunkBlocks).
void noise_chunk(const float* xr, float* o, int64_t m, float sig, float sc, uint32_t key0, uint32_t key1,
                 uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t blk0) {
  alignas(64) uint32_t w0[kNoiseChunkBlocks], w1[kNoiseChunkBlocks], w2[kNoiseChunkBlocks], w3[kNoiseChunkBlocks];
  philox_blocks(blk0, (m + 3) / 4, j, id_lo, id_hi, key0, key1, w0, w1, w2, w3);
  noise_finish(w0, w1, w2, w3, xr, o, m, sig, sc);
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
        mx[l] = pool_max(mx[l], v);
        above[l] += v > threshold;
        nans[l] += v != v;
      }
    }
    for (int l = 0; t + l < hw; ++l) {
      const float v = p[t + l];
      acc[l] += v;
      mx[l] = pool_max(mx[l], v);
      above[l] += v > threshold;
      nans[l] += v != v;
    }
    mean[r] = pool_tree_sum(acc) / fhw;
    if (max) {
      float m = -INFINITY;
      int32_t nn = 0;
      for (int l = 0; l < kPoolLanes; ++l) {
        m = pool_max(m, mx[l]);
        nn += nans[l];
      }
      max[r] = nn ? NAN : pool_max_result(m);
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

// Bit l set when p[l] (l < m <= 64) may rank above the row's current k-th (value tv): a cheap
// float test, true for every element whose key is greater (NaN included); the exact composite
// test follows on the few that pass.
uint64_t above_mask_scalar(const float* p, int64_t m, float tv, int by) {
  uint64_t mask = 0;
  if (by == DIFFREP_TOPK_MAGNITUDE) {
    const float ta = std::fabs(tv);
    for (int64_t l = 0; l < m; ++l) mask |= (uint64_t)!(std::fabs(p[l]) <= ta) << l;
  } else {
    for (int64_t l = 0; l < m; ++l) mask |= (uint64_t)!(p[l] <= tv) << l;
  }
  return mask;
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
uint64_t above_mask_avx2(const float* p, int64_t m, float tv, int by) {
  if (m < 64) return above_mask_scalar(p, m, tv, by);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const bool mag = by == DIFFREP_TOPK_MAGNITUDE;
  const __m256 t = _mm256_set1_ps(mag ? std::fabs(tv) : tv);
  uint64_t mask = 0;
  for (int q = 0; q < 8; ++q) {
    __m256 v = _mm256_loadu_ps(p + 8 * q);
    if (mag) v = _mm256_and_ps(v, abs_mask);
    // not (v <= t): true for v > t and for NaN on either side
    const __m256 gt = _mm256_cmp_ps(v, t, _CMP_NLE_UQ);
    mask |= (uint64_t)(uint32_t)_mm256_movemask_ps(gt) << (8 * q);
  }
  return mask;
}
#endif

uint64_t above_mask(const float* p, int64_t m, float tv, int by) {
#if defined(__x86_64__)
  if (kHaveAvx2) return above_mask_avx2(p, m, tv, by);
#endif
  return above_mask_scalar(p, m, tv, by);
}

// The k largest of n distinct composites, sorted descending into out. For small n, each
// element's rank is counted with vector compares (no data-dependent branches); else nth_element
// and sort. `cand` may be reordered.
DIFFREP_CLONES
void rank_select(const uint64_t* cand, int64_t n, int64_t k, uint64_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t v = cand[i];
    int64_t r = 0;
    for (int64_t j = 0; j < n; ++j) r += cand[j] > v;
    if (r < k) out[r] = v;
  }
}

constexpr int64_t kRankSelectMax = 96;

// The best k of the n candidate composites of a row (n >= k), sorted, decoded into values and
// indices. `cand` may be reordered.
void finish_topk(const float* row, uint64_t* cand, int64_t n, int64_t k, float* values, int64_t* indices) {
  uint64_t best[kRankSelectMax];
  const uint64_t* sorted = cand;
  if (n <= kRankSelectMax) {
    rank_select(cand, n, k, best);
    sorted = best;
  } else {
    auto greater = [](uint64_t a, uint64_t b) { return a > b; };
    if (n > k) std::nth_element(cand, cand + (k - 1), cand + n, greater);
    std::sort(cand, cand + k, greater);
  }
  for (int64_t t = 0; t < k; ++t) {
    const uint32_t idx = topk_index(sorted[t]);
    indices[t] = idx;
    values[t] = row[idx];
  }
}

// Top-k of one row by buffered filtering: composite keys above the current threshold go into an
// unsorted buffer of 2k (at least k + 32); when it is full, nth_element keeps the best k and their
// k-th becomes the threshold. Once there is a threshold, the row is tested 64 elements at a time
// with vector compares, so most elements cost one compare. At the end, nth_element and a sort of
// the best k. About c + k log(c/k) steps, and the same code serves every k up to c.
void topk_row(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices, uint64_t* buf,
              int64_t cap) {
  auto greater = [](uint64_t a, uint64_t b) { return a > b; };
  uint64_t thr = 0;  // every composite is > 0 (index < 2^32 - 1)
  bool have_thr = false;
  int64_t cnt = 0;
  constexpr int64_t kScan = 64;
  for (int64_t t0 = 0; t0 < c; t0 += kScan) {
    const int64_t m = std::min(kScan, c - t0);
    uint64_t mask;
    if (have_thr) {
      if ((thr >> 32) == 0xffffffffu) break;  // the k-th is NaN: nothing later ranks above it
      mask = above_mask(row + t0, m, row[topk_index(thr)], by);
    } else {
      mask = m == 64 ? ~0ull : ((1ull << m) - 1);
    }
    while (mask) {
      const int l = __builtin_ctzll(mask);
      mask &= mask - 1;
      const uint64_t key = topk_composite(row[t0 + l], (uint32_t)(t0 + l), by);
      if (key <= thr) continue;
      buf[cnt++] = key;
      if (cnt == cap) {
        std::nth_element(buf, buf + (k - 1), buf + cnt, greater);
        cnt = k;
        thr = buf[k - 1];
        have_thr = true;
      }
    }
  }
  finish_topk(row, buf, cnt, k, values, indices);
}

DIFFREP_CLONES
void row_keys(const float* row, int64_t c, int by, uint32_t* keys) {
  for (int64_t t = 0; t < c; ++t) keys[t] = topk_key(row[t], by);
}

DIFFREP_CLONES
int64_t count_at_least(const uint32_t* keys, int64_t c, uint32_t v) {
  int32_t cnt = 0;  // c <= kShortRow
  for (int64_t t = 0; t < c; ++t) cnt += keys[t] >= v;
  return cnt;
}

// Top-k of a short row with few data-dependent branches: the 32-bit keys of the row; the largest
// 16-bit prefix P with at least k keys >= P * 2^16, by bisection (16 vectorised counting passes);
// then the elements at or above it (k plus the few that share the prefix), selected and sorted.
void topk_row_short(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices,
                    uint32_t* keys, uint64_t* cand) {
  row_keys(row, c, by, keys);
  uint32_t lo = 0, hi = 0xffffu;  // count(keys >= lo << 16) >= k always; find the largest such lo
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo + 1) / 2;
    if (count_at_least(keys, c, mid << 16) >= k) lo = mid;
    else hi = mid - 1;
  }
  const uint32_t t0 = lo << 16;
  int64_t n = 0;
  for (int64_t t = 0; t < c; ++t)
    if (keys[t] >= t0) cand[n++] = ((uint64_t)keys[t] << 32) | (uint32_t)~(uint32_t)t;
  finish_topk(row, cand, n, k, values, indices);
}

DIFFREP_CLONES
void lane_max16(const uint32_t* keys, int64_t c, uint32_t* mx) {
  for (int l = 0; l < 16; ++l) mx[l] = 0;
  int64_t t = 0;
  for (; t + 16 <= c; t += 16)
    for (int l = 0; l < 16; ++l) mx[l] = keys[t + l] > mx[l] ? keys[t + l] : mx[l];
  for (int l = 0; t + l < c; ++l) mx[l] = keys[t + l] > mx[l] ? keys[t + l] : mx[l];
}

// Top-k of a short row for k <= 16: the k-th largest of the 16 lane maxima (lane l holds
// positions l, l + 16, ...) is at most the row's k-th largest key, since those k maxima are k
// distinct elements; so only the few elements at or above it can be in the top k.
void topk_row_short_small_k(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices,
                            uint32_t* keys, uint64_t* cand) {
  row_keys(row, c, by, keys);
  uint32_t mx[16];
  lane_max16(keys, c, mx);
  std::nth_element(mx, mx + (k - 1), mx + 16, [](uint32_t a, uint32_t b) { return a > b; });
  const uint32_t t0 = mx[k - 1];
  int64_t n = 0;
  for (int64_t t = 0; t < c; ++t)
    if (keys[t] >= t0) cand[n++] = ((uint64_t)keys[t] << 32) | (uint32_t)~(uint32_t)t;
  finish_topk(row, cand, n, k, values, indices);
}

constexpr int64_t kShortRow = 2048;

struct TopkScratch {
  std::vector<uint64_t> cand;
  std::vector<uint32_t> keys;
  void topk(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices) {
    if (c <= kShortRow && k <= 16) {
      keys.resize((size_t)c);
      cand.resize((size_t)c);
      topk_row_short_small_k(row, c, k, by, values, indices, keys.data(), cand.data());
      return;
    }
    if (c <= kShortRow) {
      keys.resize((size_t)c);
      cand.resize((size_t)c);
      topk_row_short(row, c, k, by, values, indices, keys.data(), cand.data());
      return;
    }
    const int64_t cap = std::min(c, k + std::max<int64_t>(k, 32));
    cand.resize((size_t)cap);
    topk_row(row, c, k, by, values, indices, cand.data(), cap);
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

namespace {

// A fresh large output (a new tensor: untouched pages from mmap) costs one page fault per 4 KiB
// on first write, which took as long as the noise itself here (191 ms against 101 ms pre-touched
// for 84 MB). Asking for transparent huge pages on the untouched 2 MiB-aligned interior cuts that
// to 111 ms. Only a hint: pages already present are unaffected and errors are ignored.
void advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = (uintptr_t)2 << 20;
  // From 32 MiB only: glibc always serves those with a fresh mmap, while smaller blocks often
  // come back from its heap with their pages present (advising those only risks compaction).
  if (bytes < 16 * kHuge) return;
  const uintptr_t a = ((uintptr_t)p + kHuge - 1) & ~(kHuge - 1), e = ((uintptr_t)p + bytes) & ~(kHuge - 1);
  if (e > a) (void)madvise((void*)a, e - a, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace

void cpu_noise_inject(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales,
                      int64_t s, const int64_t* ids, uint64_t seed, int clean, float* out) {
  const int64_t chunk = 4 * kNoiseChunkBlocks;
  const int64_t chunks = (d + chunk - 1) / chunk;
  const int64_t items = s * n * chunks;
  const uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
  advise_huge_pages(out, (size_t)(s * n * d) * sizeof(float));
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
