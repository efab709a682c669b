// Philox4x32-10 and Box-Muller, shared by the CPU and CUDA kernels so that both draw the same
// noise. Compiled with floating-point contraction off (cppbuild.sh) so they also round the same.
#ifndef DIFFREP_PHILOX_H
#define DIFFREP_PHILOX_H

#include <stdint.h>
#include <math.h>

#if defined(__CUDACC__)
#define DIFFREP_HD __host__ __device__ __forceinline__
#else
#define DIFFREP_HD static inline
#endif

namespace diffrep {

struct u32x4 { uint32_t v[4]; };

DIFFREP_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  return (uint32_t)p;
}

// Philox4x32 with 10 rounds (Salmon et al., SC'11), constants as in Random123 and cuRAND.
DIFFREP_HD u32x4 philox4x32_10(u32x4 c, uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(M0, c.v[0], &hi0);
    uint32_t lo1 = mulhilo(M1, c.v[2], &hi1);
    u32x4 n;
    n.v[0] = hi1 ^ c.v[1] ^ k0;
    n.v[1] = lo1;
    n.v[2] = hi0 ^ c.v[3] ^ k1;
    n.v[3] = lo0;
    c = n;
    k0 += W0;
    k1 += W1;
  }
  return c;
}

// Uniform in (0, 1]: never 0, so the logarithm is finite.
DIFFREP_HD double uniform_open0(uint32_t u) { return ((double)u + 1.0) * (1.0 / 4294967296.0); }

// Two standard normals from two uint32 words (Box-Muller in double, rounded to float once, so
// that CPU and GPU agree to the last bit apart from a rounding tie in double).
DIFFREP_HD void box_muller(uint32_t a, uint32_t b, float* z0, float* z1) {
  const double two_pi = 6.283185307179586476925286766559;
  double r = sqrt(-2.0 * log(uniform_open0(a)));
  double t = two_pi * ((double)b * (1.0 / 4294967296.0));
  *z0 = (float)(r * cos(t));
  *z1 = (float)(r * sin(t));
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
