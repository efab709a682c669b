// CPU kernels: OpenMP across rows; inner loops kept simple so the compiler vectorises them.
#include "backend.h"
#include "diffrep_ops.h"
#include "philox.h"

#include <omp.h>
#include <algorithm>
#include <cmath>
#include <vector>

namespace diffrep {

void cpu_noise_inject(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales,
                      int64_t s, const int64_t* ids, uint64_t seed, int clean, float* out) {
  const int64_t blocks = (d + 3) / 4;
#pragma omp parallel for collapse(2) schedule(static) num_threads(cpu_threads())
  for (int64_t j = 0; j < s; ++j) {
    for (int64_t i = 0; i < n; ++i) {
      const float sig = sigmas[j];
      const float sc = scales ? scales[j] : 1.0f;
      const float* xr = x0 + i * d;
      float* o = out + (j * n + i) * d;
      if (clean) {
        for (int64_t k = 0; k < d; ++k) o[k] = sc * xr[k];
        continue;
      }
      const uint64_t id = ids ? (uint64_t)ids[i] : (uint64_t)i;
      for (int64_t b = 0; b < blocks; ++b) {
        float z[4];
        normal4(seed, id, (uint32_t)j, (uint32_t)b, z);
        const int64_t k0 = b * 4;
        const int64_t m = std::min<int64_t>(4, d - k0);
        for (int64_t t = 0; t < m; ++t) o[k0 + t] = sc * (xr[k0 + t] + sig * z[t]);
      }
    }
  }
}

void cpu_pool(const float* x, int64_t n, int64_t c, int64_t hw, float* mean, float* max, float* active,
              float threshold) {
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
  for (int64_t r = 0; r < n * c; ++r) {
    const float* p = x + r * hw;
    double sum = 0.0;
    float mx = -INFINITY;
    int64_t above = 0;
    for (int64_t t = 0; t < hw; ++t) {
      sum += p[t];
      mx = std::max(mx, p[t]);
      above += p[t] > threshold;
    }
    mean[r] = (float)(sum / (double)hw);
    if (max) max[r] = mx;
    if (active) active[r] = (float)above / (float)hw;
  }
}

namespace {

// Ranking key: NaN above everything, then by value or magnitude; ties to the lower index.
inline bool ranks_before(float a, int64_t ia, float b, int64_t ib, int by) {
  float ka = by == DIFFREP_TOPK_MAGNITUDE ? std::fabs(a) : a;
  float kb = by == DIFFREP_TOPK_MAGNITUDE ? std::fabs(b) : b;
  bool na = std::isnan(ka), nb = std::isnan(kb);
  if (na != nb) return na;
  if (!na && ka != kb) return ka > kb;
  return ia < ib;
}

void topk_row(const float* row, int64_t c, int64_t k, int by, float* values, int64_t* indices,
              std::vector<int64_t>& idx) {
  idx.resize((size_t)c);
  for (int64_t t = 0; t < c; ++t) idx[(size_t)t] = t;
  auto cmp = [&](int64_t a, int64_t b) { return ranks_before(row[a], a, row[b], b, by); };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), cmp);
  for (int64_t t = 0; t < k; ++t) {
    indices[t] = idx[(size_t)t];
    values[t] = row[idx[(size_t)t]];
  }
}

}  // namespace

void cpu_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices) {
#pragma omp parallel num_threads(cpu_threads())
  {
    std::vector<int64_t> idx;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) topk_row(x + i * c, c, k, by, values + i * k, indices + i * k, idx);
  }
}

void cpu_pool_topk(const float* x, int64_t n, int64_t c, int64_t hw, int64_t k, int by, float* mean,
                   float* values, int64_t* indices) {
#pragma omp parallel num_threads(cpu_threads())
  {
    std::vector<int64_t> idx;
    std::vector<float> row((size_t)c);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* p = x + (i * c + ch) * hw;
        double sum = 0.0;
        for (int64_t t = 0; t < hw; ++t) sum += p[t];
        row[(size_t)ch] = (float)(sum / (double)hw);
      }
      if (mean) std::copy(row.begin(), row.end(), mean + i * c);
      topk_row(row.data(), c, k, by, values + i * k, indices + i * k, idx);
    }
  }
}

}  // namespace diffrep
