// The top-k ranking as one 64-bit integer per element, shared by the CPU and CUDA kernels:
// high 32 bits an order-preserving key of the value (or of |value|), low 32 bits the complement
// of the index, so a larger composite ranks first, ties go to the lower index, and every element
// of a row has a distinct composite (the selection and its order are unique).
// Keys: NaN (any sign or payload) ranks above +inf; -0 and +0 are equal; by magnitude the key is
// that of |x|.
#ifndef DIFFREP_TOPK_KEY_H
#define DIFFREP_TOPK_KEY_H

#include "philox.h"  // DIFFREP_HD, f32_bits
#include "diffrep_ops.h"

namespace diffrep {

DIFFREP_HD uint32_t topk_key(float x, int by) {
  const uint32_t u = f32_bits(x);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return 0xffffffffu;  // NaN
  if (by == DIFFREP_TOPK_MAGNITUDE) return a;
  if (a == 0) return 0x80000000u;  // -0 == +0
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

DIFFREP_HD uint64_t topk_composite(float x, uint32_t idx, int by) {
  return ((uint64_t)topk_key(x, by) << 32) | (uint64_t)(~idx);
}

DIFFREP_HD uint32_t topk_index(uint64_t composite) { return ~(uint32_t)composite; }

}  // namespace diffrep

#endif
