// The summation order of the spatial mean, shared by the CPU and CUDA kernels so that both give
// the same bits (and so the same top-k of pooled rows). Lane l (0..15) adds the positions
// t = l, l + 16, l + 32, ... in increasing t, in float; the 16 lane sums are then added as a tree
// (l + 8, then l + 4, l + 2, l + 1), which is what a half-warp's xor-shuffle does. The mean is that
// sum divided by hw (correctly rounded on both). Float partial sums over hw/16 terms each keep the
// relative error of the sum near (hw/16 + 4) * 2^-24 of sum|x|: about 1e-6 for hw = 256.
#ifndef DIFFREP_POOL_ORDER_H
#define DIFFREP_POOL_ORDER_H

#include "philox.h"  // DIFFREP_HD

namespace diffrep {

constexpr int kPoolLanes = 16;

DIFFREP_HD float pool_tree_sum(float* acc) {
  for (int l = 0; l < 8; ++l) acc[l] = acc[l] + acc[l + 8];
  for (int l = 0; l < 4; ++l) acc[l] = acc[l] + acc[l + 4];
  for (int l = 0; l < 2; ++l) acc[l] = acc[l] + acc[l + 2];
  return acc[0] + acc[1];
}

// The larger of a and b (NaN is tracked separately by the kernels). A zero maximum is reported as
// +0 (pool_max_result), so the result does not depend on the order of -0 and +0 ties.
DIFFREP_HD float pool_max(float a, float b) { return b > a ? b : a; }
DIFFREP_HD float pool_max_result(float m) { return m + 0.0f; }

}  // namespace diffrep

#endif
