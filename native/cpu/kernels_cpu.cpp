// CPU kernels: OpenMP across rows; the inner loops are written so that g++ vectorises them. Each
// hot leaf function is one generic body compiled three times (AVX-512, AVX2, portable x86-64) by
// thin wrappers with a target attribute; a table of function pointers picks one set at load time
// (the best the CPU has, or DIFFREP_CPU_ISA=avx512|avx2|portable to force one for measurement and
// tests; diffrep_set_cpu_isa switches it later). Noise on AVX-512 and AVX2 is hand-written: Philox
// (32x32->64 multiplies on even and odd lanes, which g++ does not find), Box-Muller and the
// scale-add fused in registers, several independent groups per step. Pool's mean has hand-written
// AVX2 for many rows at a time (the AVX-512 set uses it too). No path uses FMA and all of them do the same IEEE
// operations in the same order, so every path returns the same bits (native/test/test_isa.cpp).
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
#include <mutex>
#include <strings.h>
#include <vector>

#include <atomic>
#include <cstdlib>
#include <string>

// Each generic body NAME_body (always inlined) is compiled once per wrapper below; the wrapper's
// target decides the vector width g++ uses for it. DIFFREP_BASELINE_ONLY builds the portable set only.
#if defined(__x86_64__) && !defined(DIFFREP_BASELINE_ONLY)
#define DIFFREP_HAVE_ISA_PATHS 1
#define DIFFREP_T_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq")))
#define DIFFREP_T_AVX2 __attribute__((target("avx2")))
#define DIFFREP_VARIANTS(ret, name, params, args)                                 \
  DIFFREP_T_AVX512 ret name##_avx512 params { return name##_body args; } \
  DIFFREP_T_AVX2 ret name##_avx2 params { return name##_body args; } \
  ret name##_portable params { return name##_body args; }
#else
#define DIFFREP_VARIANTS(ret, name, params, args) \
  ret name##_portable params { return name##_body args; }
#endif
#define DIFFREP_BODY static inline __attribute__((always_inline))

namespace diffrep {

namespace {

// One ISA's set of the hot functions; the kernels below call through the set chosen at load time
// (isa_ops()), read once per kernel call.
struct IsaOps {
  const char* name;
  // nt: write o with non-temporal stores (a large output that would only evict the cache)
  void (*noise_chunk)(const float* xr, float* o, int64_t m, float sig, float sc, uint32_t key0, uint32_t key1,
                      uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t blk0, bool nt);
  void (*scale_row)(const float* xr, float* o, int64_t m, float sc);
  void (*pool_rows)(const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean, float* max, float* active,
                    float threshold);
  void (*mean_rows)(const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean);
  uint64_t (*above_mask)(const float* p, int64_t m, float tv, int by);
  void (*rank_select)(const uint64_t* cand, int64_t n, int64_t k, uint64_t* out);
  void (*row_keys)(const float* row, int64_t c, int by, uint32_t* keys);
  int64_t (*count_at_least)(const uint32_t* keys, int64_t c, uint32_t v);
  void (*lane_max16)(const uint32_t* keys, int64_t c, uint32_t* mx);
};

const IsaOps& isa_ops();

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

#if defined(DIFFREP_HAVE_ISA_PATHS)
// The AVX2 noise works on G independent groups of eight blocks at once, every step written as a loop
// over the groups: Philox's rounds and the Box-Muller polynomials are long chains of dependent
// operations, and side by side the groups' chains fill the pipeline that one chain leaves idle.
// Three groups (96 elements per step) ran 4-5% faster than two on Zen 4 and four no faster (register
// spills); a row's tail takes one-group steps.
constexpr int kAvx2Groups = 3;

// Philox words of the blocks blk .. blk + 8 G - 1: w[4 g + q] holds word q of blocks blk + 8 g .. + 7.
// vpmuludq multiplies the even 32-bit lanes and, after a 64-bit shift, the odd ones; blends put the
// high halves back in lane order. The low halves come from vpmulld, one instruction instead of a
// shift and a blend (3-5% faster noise on Zen 4; the same bits).
template <int G>
__attribute__((target("avx2"), always_inline)) inline void philox_groups_avx2(uint32_t blk, uint32_t j,
                                                                              uint32_t id_lo, uint32_t id_hi,
                                                                              uint32_t key0, uint32_t key1,
                                                                              __m256i* w) {
  const __m256i M0 = _mm256_set1_epi32((int)0xD2511F53u), M1 = _mm256_set1_epi32((int)0xCD9E8D57u);
  __m256i c0[G], c1[G], c2[G], c3[G];
  for (int g = 0; g < G; ++g) {
    c0[g] = _mm256_add_epi32(_mm256_set1_epi32((int)(blk + 8u * (uint32_t)g)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    c1[g] = _mm256_set1_epi32((int)j);
    c2[g] = _mm256_set1_epi32((int)id_lo);
    c3[g] = _mm256_set1_epi32((int)id_hi);
  }
  uint32_t k0 = key0, k1 = key1;
  for (int r = 0; r < 10; ++r) {
    const __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1);
    for (int g = 0; g < G; ++g) {
      const __m256i e0 = _mm256_mul_epu32(c0[g], M0), o0 = _mm256_mul_epu32(_mm256_srli_epi64(c0[g], 32), M0);
      const __m256i e1 = _mm256_mul_epu32(c2[g], M1), o1 = _mm256_mul_epu32(_mm256_srli_epi64(c2[g], 32), M1);
      const __m256i lo0 = _mm256_mullo_epi32(c0[g], M0), lo1 = _mm256_mullo_epi32(c2[g], M1);
      const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
      const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
      c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[g]), vk0);
      c1[g] = lo1;
      c2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[g]), vk1);
      c3[g] = lo0;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int g = 0; g < G; ++g) {
    w[4 * g] = c0[g];
    w[4 * g + 1] = c1[g];
    w[4 * g + 2] = c2[g];
    w[4 * g + 3] = c3[g];
  }
}

// box_muller (philox.h) on P x 8 word pairs (a[p], b[p]): the same IEEE operations in the same
// order (each intrinsic is one correctly rounded operation, no FMA), so the same bits as the
// scalar code.
template <int P>
__attribute__((target("avx2"), always_inline)) inline void box_muller_avx2(const __m256i* a, const __m256i* b,
                                                                           __m256* z0, __m256* z1) {
  const __m256i one = _mm256_set1_epi32(1);
#define DIFFREP_EACH for (int p = 0; p < P; ++p)
#define DIFFREP_STEP(y, t, c) DIFFREP_EACH y[p] = _mm256_add_ps(_mm256_mul_ps(y[p], t[p]), _mm256_set1_ps(c))
  // minus2_log_uniform(a)
  __m256 x[P], z[P], fe[P], r[P];
  DIFFREP_EACH {
    const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_srli_epi32(a[p], 8), one)),
                                   _mm256_set1_ps(5.9604644775390625e-8f));
    const __m256i ub = _mm256_castps_si256(u);
    const __m256i mant = _mm256_and_si256(ub, _mm256_set1_epi32(0x007fffff));
    const __m256i small = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x003504f3), mant);  // -1 where small
    const __m256i e = _mm256_add_epi32(
        _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(ub, 23), _mm256_set1_epi32(0xff)), _mm256_set1_epi32(126)),
        small);
    const __m256 m = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_or_si256(mant, _mm256_set1_epi32(0x3f000000)),
                                                          _mm256_and_si256(small, _mm256_set1_epi32(1 << 23))));
    x[p] = _mm256_sub_ps(m, _mm256_set1_ps(1.0f));
    z[p] = _mm256_mul_ps(x[p], x[p]);
    fe[p] = _mm256_cvtepi32_ps(e);
  }
  __m256 y[P];
  DIFFREP_EACH y[p] = _mm256_set1_ps(7.0376836292e-2f);
  DIFFREP_STEP(y, x, -1.1514610310e-1f);
  DIFFREP_STEP(y, x, 1.1676998740e-1f);
  DIFFREP_STEP(y, x, -1.2420140846e-1f);
  DIFFREP_STEP(y, x, 1.4249322787e-1f);
  DIFFREP_STEP(y, x, -1.6668057665e-1f);
  DIFFREP_STEP(y, x, 2.0000714765e-1f);
  DIFFREP_STEP(y, x, -2.4999993993e-1f);
  DIFFREP_STEP(y, x, 3.3333331174e-1f);
  DIFFREP_EACH {
    __m256 v = _mm256_mul_ps(_mm256_mul_ps(y[p], x[p]), z[p]);
    v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_set1_ps(-2.12194440e-4f), fe[p]));
    v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_set1_ps(-0.5f), z[p]));
    __m256 l = _mm256_add_ps(x[p], v);
    l = _mm256_add_ps(l, _mm256_mul_ps(_mm256_set1_ps(0.693359375f), fe[p]));
    r[p] = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), l));
  }
  // cos_sin_turn(b)
  __m256i q[P];
  __m256 ya[P], za[P], sp[P], cp[P];
  DIFFREP_EACH {
    q[p] = _mm256_srli_epi32(_mm256_add_epi32(b[p], _mm256_set1_epi32(0x20000000)), 30);
    const __m256i rem = _mm256_sub_epi32(b[p], _mm256_slli_epi32(q[p], 30));
    ya[p] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srai_epi32(rem, 6)), _mm256_set1_ps(9.362675707309822e-8f));
    za[p] = _mm256_mul_ps(ya[p], ya[p]);
    sp[p] = _mm256_set1_ps(-1.9515295891e-4f);
    cp[p] = _mm256_set1_ps(2.443315711809948e-5f);
  }
  DIFFREP_STEP(sp, za, 8.3321608736e-3f);
  DIFFREP_STEP(cp, za, -1.388731625493765e-3f);
  DIFFREP_STEP(sp, za, -1.6666654611e-1f);
  DIFFREP_STEP(cp, za, 4.166664568298827e-2f);
  DIFFREP_EACH {
    const __m256 sy = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(sp[p], za[p]), ya[p]), ya[p]);
    const __m256 cy = _mm256_add_ps(
        _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(cp[p], za[p]), za[p]), _mm256_mul_ps(_mm256_set1_ps(0.5f), za[p])),
        _mm256_set1_ps(1.0f));
    const __m256i qq = _mm256_and_si256(q[p], _mm256_set1_epi32(3));
    const __m256i swap = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(qq, one));
    const __m256i cneg = _mm256_slli_epi32(_mm256_and_si256(_mm256_add_epi32(qq, one), _mm256_set1_epi32(2)), 30);
    const __m256i sneg = _mm256_slli_epi32(_mm256_and_si256(qq, _mm256_set1_epi32(2)), 30);
    const __m256i cb = _mm256_castps_si256(cy), sb = _mm256_castps_si256(sy);
    const __m256 cc = _mm256_castsi256_ps(_mm256_xor_si256(_mm256_blendv_epi8(cb, sb, swap), cneg));
    const __m256 ss = _mm256_castsi256_ps(_mm256_xor_si256(_mm256_blendv_epi8(sb, cb, swap), sneg));
    z0[p] = _mm256_mul_ps(r[p], cc);
    z1[p] = _mm256_mul_ps(r[p], ss);
  }
#undef DIFFREP_STEP
#undef DIFFREP_EACH
}

// One step of the AVX2 noise: Philox, Box-Muller and the scale-add for 32 G elements from o[t] on in
// registers, with no pass through memory in between. A short step (m - t < 32 G) computes all the
// blocks anyway and writes only the elements asked for.
template <int G>
__attribute__((target("avx2"), always_inline)) inline void noise_step_avx2(const float* xr, float* o, int64_t t,
                                                                           int64_t m, __m256 vsig, __m256 vsc,
                                                                           float sig, float sc, uint32_t key0,
                                                                           uint32_t key1, uint32_t j, uint32_t id_lo,
                                                                           uint32_t id_hi, uint32_t blk0, bool stream) {
  constexpr int P = 2 * G, E = 32 * G;  // E elements per step
  {
    __m256i w[4 * G];
    philox_groups_avx2<G>(blk0 + (uint32_t)(t / 4), j, id_lo, id_hi, key0, key1, w);
    __m256i a[P], b[P];
    for (int g = 0; g < G; ++g) {  // pairs (w0, w1) and (w2, w3) of each group
      a[2 * g] = w[4 * g];
      b[2 * g] = w[4 * g + 1];
      a[2 * g + 1] = w[4 * g + 2];
      b[2 * g + 1] = w[4 * g + 3];
    }
    __m256 z0[P], z1[P];
    box_muller_avx2<P>(a, b, z0, z1);
    __m256 zv[4 * G];
    for (int g = 0; g < G; ++g) {
      // outputs 0, 1 (pair 2g) and 2, 3 (pair 2g + 1) of eight blocks; 4x8 transpose into element
      // order: zv[4 g + h] holds blocks 2h, 2h + 1 of the group
      const __m256 t0 = _mm256_unpacklo_ps(z0[2 * g], z1[2 * g]), t1 = _mm256_unpackhi_ps(z0[2 * g], z1[2 * g]);
      const __m256 t2 = _mm256_unpacklo_ps(z0[2 * g + 1], z1[2 * g + 1]);
      const __m256 t3 = _mm256_unpackhi_ps(z0[2 * g + 1], z1[2 * g + 1]);
      const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      zv[4 * g] = _mm256_permute2f128_ps(u0, u1, 0x20);
      zv[4 * g + 1] = _mm256_permute2f128_ps(u2, u3, 0x20);
      zv[4 * g + 2] = _mm256_permute2f128_ps(u0, u1, 0x31);
      zv[4 * g + 3] = _mm256_permute2f128_ps(u2, u3, 0x31);
    }
    if (t + E <= m) {
      for (int q = 0; q < 4 * G; ++q) {
        const __m256 xv = _mm256_loadu_ps(xr + t + 8 * q);
        const __m256 r = _mm256_mul_ps(vsc, _mm256_add_ps(xv, _mm256_mul_ps(vsig, zv[q])));
        if (stream) _mm256_stream_ps(o + t + 8 * q, r);
        else _mm256_storeu_ps(o + t + 8 * q, r);
      }
    } else {
      alignas(32) float z[E];
      for (int q = 0; q < 4 * G; ++q) _mm256_store_ps(z + 8 * q, zv[q]);
      for (int64_t u = 0; t + u < m; ++u) o[t + u] = sc * (xr[t + u] + sig * z[u]);
    }
  }
}

// The AVX2 noise chunk: steps of three groups (96 elements), the row's tail in steps of one.
__attribute__((target("avx2")))
void noise_chunk_avx2(const float* xr, float* o, int64_t m, float sig, float sc, uint32_t key0, uint32_t key1,
                      uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t blk0, bool nt) {
  const __m256 vsig = _mm256_set1_ps(sig), vsc = _mm256_set1_ps(sc);
  const bool stream = nt && ((uintptr_t)o & 31) == 0;  // steps of 32 floats keep the alignment
  constexpr int E = 32 * kAvx2Groups;
  int64_t t = 0;
  for (; t + E <= m; t += E)
    noise_step_avx2<kAvx2Groups>(xr, o, t, m, vsig, vsc, sig, sc, key0, key1, j, id_lo, id_hi, blk0, stream);
  for (; t < m; t += 32)
    noise_step_avx2<1>(xr, o, t, m, vsig, vsc, sig, sc, key0, key1, j, id_lo, id_hi, blk0, stream);
  if (stream) _mm_sfence();  // non-temporal stores are weakly ordered: finish them before the barrier
}

// The same for AVX-512: G groups of sixteen blocks per step (template, so that a row's short tail
// takes a one-group step and wastes less). Masks replace AVX2's compare results and blendv.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <int G>
DIFFREP_T_AVX512 __attribute__((always_inline)) inline void philox_groups_avx512(uint32_t blk, uint32_t j,
                                                                                 uint32_t id_lo, uint32_t id_hi,
                                                                                 uint32_t key0, uint32_t key1,
                                                                                 __m512i* w) {
  const __m512i M0 = _mm512_set1_epi32((int)0xD2511F53u), M1 = _mm512_set1_epi32((int)0xCD9E8D57u);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i c0[G], c1[G], c2[G], c3[G];
  for (int g = 0; g < G; ++g) {
    c0[g] = _mm512_add_epi32(_mm512_set1_epi32((int)(blk + 16u * (uint32_t)g)), lane);
    c1[g] = _mm512_set1_epi32((int)j);
    c2[g] = _mm512_set1_epi32((int)id_lo);
    c3[g] = _mm512_set1_epi32((int)id_hi);
  }
  uint32_t k0 = key0, k1 = key1;
  for (int r = 0; r < 10; ++r) {
    const __m512i vk0 = _mm512_set1_epi32((int)k0), vk1 = _mm512_set1_epi32((int)k1);
    for (int g = 0; g < G; ++g) {
      const __m512i e0 = _mm512_mul_epu32(c0[g], M0), o0 = _mm512_mul_epu32(_mm512_srli_epi64(c0[g], 32), M0);
      const __m512i e1 = _mm512_mul_epu32(c2[g], M1), o1 = _mm512_mul_epu32(_mm512_srli_epi64(c2[g], 32), M1);
      const __m512i lo0 = _mm512_mask_blend_epi32(0xAAAA, e0, _mm512_slli_epi64(o0, 32));
      const __m512i hi0 = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(e0, 32), o0);
      const __m512i lo1 = _mm512_mask_blend_epi32(0xAAAA, e1, _mm512_slli_epi64(o1, 32));
      const __m512i hi1 = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(e1, 32), o1);
      c0[g] = _mm512_ternarylogic_epi32(hi1, c1[g], vk0, 0x96);  // three-way xor
      c1[g] = lo1;
      c2[g] = _mm512_ternarylogic_epi32(hi0, c3[g], vk1, 0x96);
      c3[g] = lo0;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int g = 0; g < G; ++g) {
    w[4 * g] = c0[g];
    w[4 * g + 1] = c1[g];
    w[4 * g + 2] = c2[g];
    w[4 * g + 3] = c3[g];
  }
}

template <int P>
DIFFREP_T_AVX512 __attribute__((always_inline)) inline void box_muller_avx512(const __m512i* a, const __m512i* b,
                                                                              __m512* z0, __m512* z1) {
  const __m512i one = _mm512_set1_epi32(1);
#define DIFFREP_EACH for (int p = 0; p < P; ++p)
#define DIFFREP_STEP(y, t, c) DIFFREP_EACH y[p] = _mm512_add_ps(_mm512_mul_ps(y[p], t[p]), _mm512_set1_ps(c))
  __m512 x[P], z[P], fe[P], r[P];
  DIFFREP_EACH {
    const __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_srli_epi32(a[p], 8), one)),
                                   _mm512_set1_ps(5.9604644775390625e-8f));
    const __m512i ub = _mm512_castps_si512(u);
    const __m512i mant = _mm512_and_si512(ub, _mm512_set1_epi32(0x007fffff));
    const __mmask16 small = _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(0x003504f3), mant);
    __m512i e = _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(ub, 23), _mm512_set1_epi32(0xff)),
                                 _mm512_set1_epi32(126));
    e = _mm512_mask_sub_epi32(e, small, e, one);
    __m512i mb = _mm512_or_si512(mant, _mm512_set1_epi32(0x3f000000));
    mb = _mm512_mask_add_epi32(mb, small, mb, _mm512_set1_epi32(1 << 23));
    x[p] = _mm512_sub_ps(_mm512_castsi512_ps(mb), _mm512_set1_ps(1.0f));
    z[p] = _mm512_mul_ps(x[p], x[p]);
    fe[p] = _mm512_cvtepi32_ps(e);
  }
  __m512 y[P];
  DIFFREP_EACH y[p] = _mm512_set1_ps(7.0376836292e-2f);
  DIFFREP_STEP(y, x, -1.1514610310e-1f);
  DIFFREP_STEP(y, x, 1.1676998740e-1f);
  DIFFREP_STEP(y, x, -1.2420140846e-1f);
  DIFFREP_STEP(y, x, 1.4249322787e-1f);
  DIFFREP_STEP(y, x, -1.6668057665e-1f);
  DIFFREP_STEP(y, x, 2.0000714765e-1f);
  DIFFREP_STEP(y, x, -2.4999993993e-1f);
  DIFFREP_STEP(y, x, 3.3333331174e-1f);
  DIFFREP_EACH {
    __m512 v = _mm512_mul_ps(_mm512_mul_ps(y[p], x[p]), z[p]);
    v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_set1_ps(-2.12194440e-4f), fe[p]));
    v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_set1_ps(-0.5f), z[p]));
    __m512 l = _mm512_add_ps(x[p], v);
    l = _mm512_add_ps(l, _mm512_mul_ps(_mm512_set1_ps(0.693359375f), fe[p]));
    r[p] = _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), l));
  }
  __m512i q[P];
  __m512 ya[P], za[P], sp[P], cp[P];
  DIFFREP_EACH {
    q[p] = _mm512_srli_epi32(_mm512_add_epi32(b[p], _mm512_set1_epi32(0x20000000)), 30);
    const __m512i rem = _mm512_sub_epi32(b[p], _mm512_slli_epi32(q[p], 30));
    ya[p] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srai_epi32(rem, 6)), _mm512_set1_ps(9.362675707309822e-8f));
    za[p] = _mm512_mul_ps(ya[p], ya[p]);
    sp[p] = _mm512_set1_ps(-1.9515295891e-4f);
    cp[p] = _mm512_set1_ps(2.443315711809948e-5f);
  }
  DIFFREP_STEP(sp, za, 8.3321608736e-3f);
  DIFFREP_STEP(cp, za, -1.388731625493765e-3f);
  DIFFREP_STEP(sp, za, -1.6666654611e-1f);
  DIFFREP_STEP(cp, za, 4.166664568298827e-2f);
  DIFFREP_EACH {
    const __m512 sy = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(sp[p], za[p]), ya[p]), ya[p]);
    const __m512 cy = _mm512_add_ps(
        _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(cp[p], za[p]), za[p]), _mm512_mul_ps(_mm512_set1_ps(0.5f), za[p])),
        _mm512_set1_ps(1.0f));
    const __m512i qq = _mm512_and_si512(q[p], _mm512_set1_epi32(3));
    const __mmask16 swap = _mm512_test_epi32_mask(qq, one);
    const __m512i cneg = _mm512_slli_epi32(_mm512_and_si512(_mm512_add_epi32(qq, one), _mm512_set1_epi32(2)), 30);
    const __m512i sneg = _mm512_slli_epi32(_mm512_and_si512(qq, _mm512_set1_epi32(2)), 30);
    const __m512i cb = _mm512_castps_si512(cy), sb = _mm512_castps_si512(sy);
    const __m512 cc = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_mask_blend_epi32(swap, cb, sb), cneg));
    const __m512 ss = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_mask_blend_epi32(swap, sb, cb), sneg));
    z0[p] = _mm512_mul_ps(r[p], cc);
    z1[p] = _mm512_mul_ps(r[p], ss);
  }
#undef DIFFREP_STEP
#undef DIFFREP_EACH
}

// One step of the AVX-512 noise: 64 G elements from o[t] on (fewer when m ends sooner).
template <int G>
DIFFREP_T_AVX512 __attribute__((always_inline)) inline void noise_step_avx512(const float* xr, float* o, int64_t t,
                                                                              int64_t m, __m512 vsig, __m512 vsc,
                                                                              float sig, float sc, uint32_t key0,
                                                                              uint32_t key1, uint32_t j,
                                                                              uint32_t id_lo, uint32_t id_hi,
                                                                              uint32_t blk0, bool stream) {
  constexpr int P = 2 * G, E = 64 * G;
  __m512i w[4 * G];
  philox_groups_avx512<G>(blk0 + (uint32_t)(t / 4), j, id_lo, id_hi, key0, key1, w);
  __m512i a[P], b[P];
  for (int g = 0; g < G; ++g) {
    a[2 * g] = w[4 * g];
    b[2 * g] = w[4 * g + 1];
    a[2 * g + 1] = w[4 * g + 2];
    b[2 * g + 1] = w[4 * g + 3];
  }
  __m512 z0[P], z1[P];
  box_muller_avx512<P>(a, b, z0, z1);
  __m512 zv[4 * G];
  for (int g = 0; g < G; ++g) {
    // outputs 0..3 of sixteen blocks into element order: per 128-bit lane L, u_k holds block 4L + k;
    // then a 4x4 transpose of the 128-bit lanes
    const __m512 t0 = _mm512_unpacklo_ps(z0[2 * g], z1[2 * g]), t1 = _mm512_unpackhi_ps(z0[2 * g], z1[2 * g]);
    const __m512 t2 = _mm512_unpacklo_ps(z0[2 * g + 1], z1[2 * g + 1]);
    const __m512 t3 = _mm512_unpackhi_ps(z0[2 * g + 1], z1[2 * g + 1]);
    const __m512 u0 = _mm512_shuffle_ps(t0, t2, 0x44), u1 = _mm512_shuffle_ps(t0, t2, 0xEE);
    const __m512 u2 = _mm512_shuffle_ps(t1, t3, 0x44), u3 = _mm512_shuffle_ps(t1, t3, 0xEE);
    const __m512 v0 = _mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 v1 = _mm512_shuffle_f32x4(u2, u3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 v2 = _mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 v3 = _mm512_shuffle_f32x4(u2, u3, _MM_SHUFFLE(3, 2, 3, 2));
    zv[4 * g] = _mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(2, 0, 2, 0));
    zv[4 * g + 1] = _mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(3, 1, 3, 1));
    zv[4 * g + 2] = _mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(2, 0, 2, 0));
    zv[4 * g + 3] = _mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(3, 1, 3, 1));
  }
  if (t + E <= m) {
    for (int q = 0; q < 4 * G; ++q) {
      const __m512 r = _mm512_mul_ps(vsc, _mm512_add_ps(_mm512_loadu_ps(xr + t + 16 * q), _mm512_mul_ps(vsig, zv[q])));
      if (stream) _mm512_stream_ps(o + t + 16 * q, r);
      else _mm512_storeu_ps(o + t + 16 * q, r);
    }
  } else {
    alignas(64) float z[E];
    for (int q = 0; q < 4 * G; ++q) _mm512_store_ps(z + 16 * q, zv[q]);
    for (int64_t u = 0; t + u < m; ++u) o[t + u] = sc * (xr[t + u] + sig * z[u]);
  }
}
#pragma GCC diagnostic pop

// The AVX-512 noise chunk: Philox, Box-Muller and the scale-add in registers, two groups of sixteen
// blocks per step (128 elements), the row's tail in steps of one group.
DIFFREP_T_AVX512 void noise_chunk_avx512(const float* xr, float* o, int64_t m, float sig, float sc, uint32_t key0,
                                         uint32_t key1, uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t blk0,
                                         bool nt) {
  const __m512 vsig = _mm512_set1_ps(sig), vsc = _mm512_set1_ps(sc);
  const bool stream = nt && ((uintptr_t)o & 63) == 0;  // steps of 64 floats keep the alignment
  int64_t t = 0;
  for (; t + 128 <= m; t += 128)
    noise_step_avx512<2>(xr, o, t, m, vsig, vsc, sig, sc, key0, key1, j, id_lo, id_hi, blk0, stream);
  for (; t < m; t += 64)
    noise_step_avx512<1>(xr, o, t, m, vsig, vsc, sig, sc, key0, key1, j, id_lo, id_hi, blk0, stream);
  if (stream) _mm_sfence();  // non-temporal stores are weakly ordered: finish them before the barrier
}
#endif

// The portable noise: Philox into four word arrays, then Box-Muller (which g++ vectorises for SSE2)
// and the scale-add, for elements [4 * blk0, 4 * blk0 + m) of one output row (m <= 4 *
// kNoiseChunkBlocks).
void noise_chunk_portable(const float* xr, float* o, int64_t m, float sig, float sc, uint32_t key0, uint32_t key1,
                          uint32_t j, uint32_t id_lo, uint32_t id_hi, uint32_t blk0, bool nt) {
  (void)nt;  // plain stores: the portable path stays plain C++
  alignas(64) uint32_t w0[kNoiseChunkBlocks], w1[kNoiseChunkBlocks], w2[kNoiseChunkBlocks], w3[kNoiseChunkBlocks];
  philox_blocks_scalar(blk0, (m + 3) / 4, j, id_lo, id_hi, key0, key1, w0, w1, w2, w3);
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

DIFFREP_BODY void scale_row_body(const float* xr, float* o, int64_t m, float sc) {
  for (int64_t t = 0; t < m; ++t) o[t] = sc * xr[t];
}
DIFFREP_VARIANTS(void, scale_row, (const float* xr, float* o, int64_t m, float sc), (xr, o, m, sc))

// ---------------------------------------------------------------------------------------------
// Pool (summation order in pool_order.h, shared with the CUDA kernel)
// ---------------------------------------------------------------------------------------------

DIFFREP_BODY float row_sum(const float* p, int64_t hw) {
  float acc[kPoolLanes] = {};
  int64_t t = 0;
  for (; t + kPoolLanes <= hw; t += kPoolLanes)
    for (int l = 0; l < kPoolLanes; ++l) acc[l] += p[t + l];
  for (int l = 0; t + l < hw; ++l) acc[l] += p[t + l];
  return pool_tree_sum(acc);
}

DIFFREP_BODY void pool_rows_body(const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean, float* max,
                                 float* active, float threshold) {
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
DIFFREP_VARIANTS(void, pool_rows,
                 (const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean, float* max, float* active,
                  float threshold),
                 (x, r0, r1, hw, mean, max, active, threshold))

DIFFREP_BODY void mean_rows_body(const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean) {
  const float fhw = (float)hw;
  for (int64_t r = r0; r < r1; ++r) mean[r] = row_sum(x + r * hw, hw) / fhw;
}
void mean_rows_portable(const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean) {
  mean_rows_body(x, r0, r1, hw, mean);
}

#if defined(DIFFREP_HAVE_ISA_PATHS)
// Means of 8 rows at a time when hw is a multiple of 16: each row's 16 lane sums stay in two 8-lane
// registers (lanes 0-7 and 8-15), and pool_tree_sum's four levels (l + 8, + 4, + 2, + 1) are done for
// several rows per add by shuffling halves, pairs and neighbours side by side. The same additions of
// the same operands as the scalar tree, so the same bits; for short rows (hw = 64) the
// one-row-at-a-time horizontal tree cost more than the loads. The AVX-512 set uses this function
// too: on the Zen 4 development machine its 256-bit loads read a 134 MB tensor 12-15% faster than
// the same sums with 512-bit loads (5.8 against 6.7 ms, 2 threads, a memory-bound pass: Zen 4
// splits a 512-bit load in two), and in-cache rows (hw = 64) were faster too (0.110 against 0.122 ms).
DIFFREP_T_AVX2 void mean_rows_avx2(const float* x, int64_t r0, int64_t r1, int64_t hw, float* mean) {
  int64_t r = r0;
  if (hw % kPoolLanes == 0) {
    const __m256 vhw = _mm256_set1_ps((float)hw);
    // after the tree, lane 4h + m holds row 2m + h
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (; r + 8 <= r1; r += 8) {
      __m256 s8[8];
      for (int i = 0; i < 8; ++i) {  // lanes 0-7 and 8-15 of a row, then lane l + lane l + 8
        const float* p = x + (r + i) * hw;
        __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
        for (int64_t t = 0; t < hw; t += 16) {
          lo = _mm256_add_ps(lo, _mm256_loadu_ps(p + t));
          hi = _mm256_add_ps(hi, _mm256_loadu_ps(p + t + 8));
        }
        s8[i] = _mm256_add_ps(lo, hi);
      }
      __m256 l2[4], l3[2];
      for (int i = 0; i < 4; ++i)  // + 4: rows 2i, 2i + 1, one 128-bit half each
        l2[i] = _mm256_add_ps(_mm256_permute2f128_ps(s8[2 * i], s8[2 * i + 1], 0x20),
                              _mm256_permute2f128_ps(s8[2 * i], s8[2 * i + 1], 0x31));
      for (int i = 0; i < 2; ++i)  // + 2
        l3[i] = _mm256_add_ps(_mm256_shuffle_ps(l2[2 * i], l2[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm256_shuffle_ps(l2[2 * i], l2[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
      const __m256 l4 = _mm256_add_ps(_mm256_shuffle_ps(l3[0], l3[1], _MM_SHUFFLE(2, 0, 2, 0)),  // + 1
                                      _mm256_shuffle_ps(l3[0], l3[1], _MM_SHUFFLE(3, 1, 3, 1)));
      _mm256_storeu_ps(mean + r, _mm256_div_ps(_mm256_permutevar8x32_ps(l4, order), vhw));
    }
  }
  mean_rows_body(x, r, r1, hw, mean);
}
#endif

// ---------------------------------------------------------------------------------------------
// Top-k (ranking keys in topk_key.h, shared with the CUDA kernel)
// ---------------------------------------------------------------------------------------------

// Bit l set when p[l] (l < m <= 64) may rank above the row's current k-th (value tv): a cheap
// float test, true for every element whose key is greater (NaN included); the exact composite
// test follows on the few that pass.
uint64_t above_mask_portable(const float* p, int64_t m, float tv, int by) {
  uint64_t mask = 0;
  if (by == DIFFREP_TOPK_MAGNITUDE) {
    const float ta = std::fabs(tv);
    for (int64_t l = 0; l < m; ++l) mask |= (uint64_t)!(std::fabs(p[l]) <= ta) << l;
  } else {
    for (int64_t l = 0; l < m; ++l) mask |= (uint64_t)!(p[l] <= tv) << l;
  }
  return mask;
}

#if defined(DIFFREP_HAVE_ISA_PATHS)
__attribute__((target("avx2")))
uint64_t above_mask_avx2(const float* p, int64_t m, float tv, int by) {
  if (m < 64) return above_mask_portable(p, m, tv, by);
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

// The k largest of n distinct composites, sorted descending into out. For small n, each
// element's rank is counted with vector compares (no data-dependent branches); else nth_element
// and sort. `cand` may be reordered.
DIFFREP_BODY void rank_select_body(const uint64_t* cand, int64_t n, int64_t k, uint64_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t v = cand[i];
    int64_t r = 0;
    for (int64_t j = 0; j < n; ++j) r += cand[j] > v;
    if (r < k) out[r] = v;
  }
}
DIFFREP_VARIANTS(void, rank_select, (const uint64_t* cand, int64_t n, int64_t k, uint64_t* out), (cand, n, k, out))

constexpr int64_t kRankSelectMax = 96;

// The best k of the n candidate composites of a row (n >= k), sorted, decoded into values and
// indices. `cand` may be reordered.
void finish_topk(const IsaOps& ops, const float* row, uint64_t* cand, int64_t n, int64_t k, float* values,
                 int64_t* indices) {
  uint64_t best[kRankSelectMax];
  const uint64_t* sorted = cand;
  if (n <= kRankSelectMax) {
    ops.rank_select(cand, n, k, best);
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
void topk_row(const IsaOps& ops, const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices, uint64_t* buf,
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
      mask = ops.above_mask(row + t0, m, row[topk_index(thr)], by);
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
  finish_topk(ops, row, buf, cnt, k, values, indices);
}

DIFFREP_BODY void row_keys_body(const float* row, int64_t c, int by, uint32_t* keys) {
  for (int64_t t = 0; t < c; ++t) keys[t] = topk_key(row[t], by);
}
DIFFREP_VARIANTS(void, row_keys, (const float* row, int64_t c, int by, uint32_t* keys), (row, c, by, keys))

DIFFREP_BODY int64_t count_at_least_body(const uint32_t* keys, int64_t c, uint32_t v) {
  int32_t cnt = 0;  // c <= kShortRow
  for (int64_t t = 0; t < c; ++t) cnt += keys[t] >= v;
  return cnt;
}
DIFFREP_VARIANTS(int64_t, count_at_least, (const uint32_t* keys, int64_t c, uint32_t v), (keys, c, v))

// Top-k of a short row with few data-dependent branches: the 32-bit keys of the row; the largest
// 16-bit prefix P with at least k keys >= P * 2^16, by bisection (16 vectorised counting passes);
// then the elements at or above it (k plus the few that share the prefix), selected and sorted.
void topk_row_short(const IsaOps& ops, const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices,
                    uint32_t* keys, uint64_t* cand) {
  ops.row_keys(row, c, by, keys);
  uint32_t lo = 0, hi = 0xffffu;  // count(keys >= lo << 16) >= k always; find the largest such lo
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo + 1) / 2;
    if (ops.count_at_least(keys, c, mid << 16) >= k) lo = mid;
    else hi = mid - 1;
  }
  const uint32_t t0 = lo << 16;
  int64_t n = 0;
  for (int64_t t = 0; t < c; ++t)
    if (keys[t] >= t0) cand[n++] = ((uint64_t)keys[t] << 32) | (uint32_t)~(uint32_t)t;
  finish_topk(ops, row, cand, n, k, values, indices);
}

DIFFREP_BODY void lane_max16_body(const uint32_t* keys, int64_t c, uint32_t* mx) {
  for (int l = 0; l < 16; ++l) mx[l] = 0;
  int64_t t = 0;
  for (; t + 16 <= c; t += 16)
    for (int l = 0; l < 16; ++l) mx[l] = keys[t + l] > mx[l] ? keys[t + l] : mx[l];
  for (int l = 0; t + l < c; ++l) mx[l] = keys[t + l] > mx[l] ? keys[t + l] : mx[l];
}
DIFFREP_VARIANTS(void, lane_max16, (const uint32_t* keys, int64_t c, uint32_t* mx), (keys, c, mx))

// Top-k of a short row for k <= 16: the k-th largest of the 16 lane maxima (lane l holds
// positions l, l + 16, ...) is at most the row's k-th largest key, since those k maxima are k
// distinct elements; so only the few elements at or above it can be in the top k.
void topk_row_short_small_k(const IsaOps& ops, const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices,
                            uint32_t* keys, uint64_t* cand) {
  ops.row_keys(row, c, by, keys);
  uint32_t mx[16];
  ops.lane_max16(keys, c, mx);
  std::nth_element(mx, mx + (k - 1), mx + 16, [](uint32_t a, uint32_t b) { return a > b; });
  const uint32_t t0 = mx[k - 1];
  int64_t n = 0;
  for (int64_t t = 0; t < c; ++t)
    if (keys[t] >= t0) cand[n++] = ((uint64_t)keys[t] << 32) | (uint32_t)~(uint32_t)t;
  finish_topk(ops, row, cand, n, k, values, indices);
}

constexpr int64_t kShortRow = 2048;

struct TopkScratch {
  const IsaOps& ops;
  explicit TopkScratch(const IsaOps& o) : ops(o) {}
  std::vector<uint64_t> cand;
  std::vector<uint32_t> keys;
  void topk(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices) {
    if (c <= kShortRow && k <= 16) {
      keys.resize((size_t)c);
      cand.resize((size_t)c);
      topk_row_short_small_k(ops, row, c, k, by, values, indices, keys.data(), cand.data());
      return;
    }
    if (c <= kShortRow) {
      keys.resize((size_t)c);
      cand.resize((size_t)c);
      topk_row_short(ops, row, c, k, by, values, indices, keys.data(), cand.data());
      return;
    }
    const int64_t cap = std::min(c, k + std::max<int64_t>(k, 32));
    cand.resize((size_t)cap);
    topk_row(ops, row, c, k, by, values, indices, cand.data(), cap);
  }
};

// ---------------------------------------------------------------------------------------------
// The ISA sets and the choice between them
// ---------------------------------------------------------------------------------------------

#if defined(DIFFREP_HAVE_ISA_PATHS)
const IsaOps kOpsAvx512 = {"avx512",         noise_chunk_avx512, scale_row_avx512,      pool_rows_avx512,
                           mean_rows_avx2,   above_mask_avx2,    rank_select_avx512,    row_keys_avx512,
                           count_at_least_avx512, lane_max16_avx512};
const IsaOps kOpsAvx2 = {"avx2",         noise_chunk_avx2, scale_row_avx2,      pool_rows_avx2,
                         mean_rows_avx2, above_mask_avx2,  rank_select_avx2,    row_keys_avx2,
                         count_at_least_avx2, lane_max16_avx2};
#endif
const IsaOps kOpsPortable = {"portable",         noise_chunk_portable, scale_row_portable,      pool_rows_portable,
                             mean_rows_portable, above_mask_portable,  rank_select_portable,    row_keys_portable,
                             count_at_least_portable, lane_max16_portable};

// Indexed by level: 0 portable, 1 avx2, 2 avx512.
const char* const kIsaNames[3] = {"portable", "avx2", "avx512"};

const IsaOps* ops_of_level(int level) {
#if defined(DIFFREP_HAVE_ISA_PATHS)
  if (level == 2) return &kOpsAvx512;
  if (level == 1) return &kOpsAvx2;
#endif
  (void)level;
  return &kOpsPortable;
}

// The best level this CPU (and OS: libgcc checks that it saves the vector state) runs.
int best_level() {
#if defined(DIFFREP_HAVE_ISA_PATHS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq"))
    return 2;
  if (__builtin_cpu_supports("avx2")) return 1;
#endif
  return 0;
}

// -1 for a name that is none of the three; "auto" and "" mean the best level.
int level_of_name(const char* name) {
  if (!name || !*name || std::strcmp(name, "auto") == 0) return best_level();
  for (int l = 0; l < 3; ++l)
    if (strcasecmp(name, kIsaNames[l]) == 0) return l;
  return -1;
}

struct IsaState {
  std::atomic<const IsaOps*> ops{nullptr};
  std::mutex lock;
  std::string status;  // guarded by lock
};

// DIFFREP_CPU_ISA is read once, on first use (the library's load, below). A value the CPU cannot
// run, or no ISA name, falls back to the best level and says so in the status, never a crash.
IsaState& isa_state() {
  static IsaState* state = [] {
    auto* st = new IsaState();  // never freed: kernels may run during exit
    const int best = best_level();
    const char* env = std::getenv("DIFFREP_CPU_ISA");
    int level = best;
    std::string why = std::string("best this CPU has");
    if (env && *env) {
      const int asked = level_of_name(env);
      if (asked < 0) {
        why = std::string("DIFFREP_CPU_ISA=") + env + " is not avx512, avx2, portable or auto; ignored";
      } else if (asked > best) {
        why = std::string("DIFFREP_CPU_ISA=") + env + ", but this CPU has only " + kIsaNames[best];
      } else {
        level = asked;
        why = std::string("DIFFREP_CPU_ISA=") + env + "; this CPU has " + kIsaNames[best];
      }
    }
    st->status = std::string(kIsaNames[level]) + " (" + why + ")";
    st->ops.store(ops_of_level(level));
    return st;
  }();
  return *state;
}

const bool kIsaChosenAtLoad = (isa_state(), true);

const IsaOps& isa_ops() { return *isa_state().ops.load(std::memory_order_acquire); }

}  // namespace

const char* cpu_isa() { return isa_ops().name; }

std::string cpu_isa_status() {
  IsaState& st = isa_state();
  std::lock_guard<std::mutex> guard(st.lock);
  return st.status;
}

int cpu_set_isa(const char* name, std::string* why) {
  const int best = best_level();
  const int level = level_of_name(name);
  if (level < 0) {
    *why = std::string("'") + name + "' is not avx512, avx2, portable or auto";
    return 1;
  }
  if (level > best) {
    *why = std::string("this CPU cannot run ") + kIsaNames[level] + " (best: " + kIsaNames[best] + ")";
    return 1;
  }
  IsaState& st = isa_state();
  std::lock_guard<std::mutex> guard(st.lock);
  st.ops.store(ops_of_level(level), std::memory_order_release);
  st.status = std::string(kIsaNames[level]) + " (set by diffrep_set_cpu_isa; this CPU has " + kIsaNames[best] + ")";
  return 0;
}

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

namespace {
int64_t noise_nt_bytes() {
  static const int64_t bytes = [] {
    const char* v = std::getenv("DIFFREP_NOISE_NT_MIB");
    return (int64_t)((v && *v ? std::atof(v) : 16.0) * (double)((int64_t)1 << 20));
  }();
  return bytes;
}
}  // namespace

void cpu_noise_inject(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales,
                      int64_t s, const int64_t* ids, uint64_t seed, int clean, float* out) {
  const int64_t chunk = 4 * kNoiseChunkBlocks;
  const int64_t chunks = (d + chunk - 1) / chunk;
  const int64_t items = s * n * chunks;
  const uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
  advise_huge_pages(out, (size_t)(s * n * d) * sizeof(float));
  const IsaOps& ops = isa_ops();
  // A large output bypasses the cache (non-temporal stores): no read-for-ownership of lines that are
  // only overwritten. DIFFREP_NOISE_NT_MIB moves the threshold (for measurements).
  const bool nt = (s * n * d) * (int64_t)sizeof(float) >= noise_nt_bytes();
// Dynamic: on a shared machine a descheduled thread does not hold up the others (each item's result
// depends only on its place, so the schedule never changes a bit).
#pragma omp parallel for schedule(dynamic, 8) num_threads(cpu_threads())
  for (int64_t it = 0; it < items; ++it) {
    const int64_t row = it / chunks, ch = it % chunks;
    const int64_t j = row / n, i = row % n;
    const int64_t k0 = ch * chunk, m = std::min(chunk, d - k0);
    const float sc = scales ? scales[j] : 1.0f;
    const float* xr = x0 + i * d + k0;
    float* o = out + row * d + k0;
    if (clean) {
      ops.scale_row(xr, o, m, sc);
      continue;
    }
    const uint64_t id = ids ? (uint64_t)ids[i] : (uint64_t)i;
    ops.noise_chunk(xr, o, m, sigmas[j], sc, key0, key1, (uint32_t)j, (uint32_t)id, (uint32_t)(id >> 32),
                (uint32_t)(k0 / 4), nt);
  }
}

void cpu_pool(const float* x, int64_t n, int64_t c, int64_t hw, float* mean, float* max, float* active,
              float threshold) {
  const IsaOps& ops = isa_ops();
  // Blocks of about 64 KiB, handed out dynamically (as in cpu_noise_inject).
  const int64_t rows = n * c, per = std::max<int64_t>(1, 16384 / hw), blocks = (rows + per - 1) / per;
#pragma omp parallel for schedule(dynamic, 1) num_threads(cpu_threads())
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t r0 = b * per, r1 = std::min(rows, r0 + per);
    if (max || active) ops.pool_rows(x, r0, r1, hw, mean, max, active, threshold);
    else ops.mean_rows(x, r0, r1, hw, mean);
  }
}

void cpu_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices) {
  const IsaOps& ops = isa_ops();
  const int64_t per = std::max<int64_t>(1, 16384 / c);  // rows per dynamic block, about 64 KiB
#pragma omp parallel num_threads(cpu_threads())
  {
    TopkScratch scratch(ops);
#pragma omp for schedule(dynamic, per)
    for (int64_t i = 0; i < n; ++i) scratch.topk(x + i * c, c, k, by, values + i * k, indices + i * k);
  }
}

void cpu_pool_topk(const float* x, int64_t n, int64_t c, int64_t hw, int64_t k, int by, float* mean,
                   float* values, int64_t* indices) {
  const IsaOps& ops = isa_ops();
#pragma omp parallel num_threads(cpu_threads())
  {
    TopkScratch scratch(ops);
    std::vector<float> row(mean ? 0 : (size_t)c);
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
      float* m = mean ? mean + i * c : row.data();
      ops.mean_rows(x + i * c * hw, 0, c, hw, m);
      scratch.topk(m, c, k, by, values + i * k, indices + i * k);
    }
  }
}

}  // namespace diffrep
