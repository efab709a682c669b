// Philox4x32-10 and a float Box-Muller transform, written once and compiled by both g++ (CPU
// kernels) and nvcc (CUDA kernels) so that both draw bitwise the same noise.
//
// Why this is bitwise portable: every floating-point step is a single IEEE-754 binary32 operation
// (+, -, *, sqrt, int->float conversion) with round-to-nearest, no fused multiply-add (g++ gets
// -ffp-contract=off, nvcc -fmad=false; nvcc's default -prec-sqrt=true makes sqrtf correctly
// rounded), no libm call and no division. log and sincos are our own branch-free polynomials, so
// the CPU loops vectorise (SSE2, AVX2, AVX-512 clones give the same bits as the scalar GPU code).
#ifndef DIFFREP_PHILOX_H
#define DIFFREP_PHILOX_H

#include <stdint.h>
#include <string.h>
#include <math.h>

#if defined(__CUDACC__)
#define DIFFREP_HD __host__ __device__ __forceinline__
#else
#define DIFFREP_HD static inline __attribute__((always_inline))
#endif

namespace diffrep {

struct u32x4 { uint32_t v[4]; };

DIFFREP_HD uint32_t f32_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
#endif
}

DIFFREP_HD float bits_f32(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  memcpy(&f, &u, 4);
  return f;
#endif
}

// Philox4x32 with 10 rounds (Salmon et al., SC'11), constants as in Random123 and cuRAND.
DIFFREP_HD u32x4 philox4x32_10(u32x4 c, uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = (uint64_t)M0 * c.v[0];
    const uint64_t p1 = (uint64_t)M1 * c.v[2];
    u32x4 n;
    n.v[0] = (uint32_t)(p1 >> 32) ^ c.v[1] ^ k0;
    n.v[1] = (uint32_t)p1;
    n.v[2] = (uint32_t)(p0 >> 32) ^ c.v[3] ^ k1;
    n.v[3] = (uint32_t)p0;
    c = n;
    k0 += W0;
    k1 += W1;
  }
  return c;
}

// -2 ln(u) for u = (a >> 8) + 1) / 2^24 in (0, 1]: Cephes' logf polynomial (about 1 ulp) on the
// mantissa in [sqrt(1/2), sqrt(2)), branch-free.
DIFFREP_HD float minus2_log_uniform(uint32_t a) {
  const float u = (float)(int32_t)((a >> 8) + 1u) * 5.9604644775390625e-8f;  // exact: 24-bit integer * 2^-24
  const uint32_t ub = f32_bits(u);
  const uint32_t mant = ub & 0x007fffffu;
  // Mantissa below sqrt(1/2) (0x3f3504f3 as a float in [0.5, 1)): double it, one less exponent.
  const uint32_t small = mant < 0x003504f3u ? 1u : 0u;
  const int32_t e = (int32_t)((ub >> 23) & 0xffu) - 126 - (int32_t)small;
  const float m = bits_f32((mant | 0x3f000000u) + (small << 23));  // in [sqrt(1/2), sqrt(2))
  const float x = m - 1.0f;
  const float z = x * x;
  float y = 7.0376836292e-2f;
  y = y * x + -1.1514610310e-1f;
  y = y * x + 1.1676998740e-1f;
  y = y * x + -1.2420140846e-1f;
  y = y * x + 1.4249322787e-1f;
  y = y * x + -1.6668057665e-1f;
  y = y * x + 2.0000714765e-1f;
  y = y * x + -2.4999993993e-1f;
  y = y * x + 3.3333331174e-1f;
  y = y * x * z;
  const float fe = (float)e;
  y = y + -2.12194440e-4f * fe;
  y = y + -0.5f * z;
  float l = x + y;
  l = l + 0.693359375f * fe;  // ln(u) <= 0
  return -2.0f * l;
}

// cos and sin of 2 pi b / 2^32: the nearest quarter turn comes from the top bits, the rest is an
// angle in [-pi/4, pi/4] for Cephes' sinf/cosf polynomials; the quarter turn swaps and negates.
DIFFREP_HD void cos_sin_turn(uint32_t b, float* c, float* s) {
  const uint32_t q = (b + 0x20000000u) >> 30;                    // nearest quarter, 0..3 (4 wraps to 0)
  const int32_t rem = (int32_t)(b - (q << 30));                   // in [-2^29, 2^29)
  const float y = (float)(rem >> 6) * 9.362675707309822e-8f;  // offset in 2^-24 quarter turns * (pi/2) / 2^24
  const float z = y * y;
  float sp = -1.9515295891e-4f;
  sp = sp * z + 8.3321608736e-3f;
  sp = sp * z + -1.6666654611e-1f;
  const float sy = sp * z * y + y;
  float cp = 2.443315711809948e-5f;
  cp = cp * z + -1.388731625493765e-3f;
  cp = cp * z + 4.166664568298827e-2f;
  const float cy = cp * z * z - 0.5f * z + 1.0f;
  const uint32_t qq = q & 3u;
  // Branch-free quarter turn: swap by a bit mask, negate by flipping the sign bit.
  const uint32_t swap = 0u - (qq & 1u);
  const uint32_t cb = f32_bits(cy), sb = f32_bits(sy);
  const uint32_t cneg = ((qq + 1u) & 2u) << 30;  // cos negative in quarters 1 and 2
  const uint32_t sneg = (qq & 2u) << 30;         // sin negative in quarters 2 and 3
  const float cc = bits_f32(((sb & swap) | (cb & ~swap)) ^ cneg);
  const float ss = bits_f32(((cb & swap) | (sb & ~swap)) ^ sneg);
  *c = cc;
  *s = ss;
}

// Two standard normals from two uint32 words (Box-Muller in float).
DIFFREP_HD void box_muller(uint32_t a, uint32_t b, float* z0, float* z1) {
  const float r = sqrtf(minus2_log_uniform(a));
  float c, s;
  cos_sin_turn(b, &c, &s);
  *z0 = r * c;
  *z1 = r * s;
}

// The four normals of block `blk` for (seed, id, sigma index j).
DIFFREP_HD void normal4(uint64_t seed, uint64_t id, uint32_t j, uint32_t blk, float out[4]) {
  u32x4 c;
  c.v[0] = blk;
  c.v[1] = j;
  c.v[2] = (uint32_t)id;
  c.v[3] = (uint32_t)(id >> 32);
  u32x4 r = philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
  box_muller(r.v[0], r.v[1], &out[0], &out[1]);
  box_muller(r.v[2], r.v[3], &out[2], &out[3]);
}

}  // namespace diffrep

#endif
