// Shared pieces of the native tests: counters, a check macro, a small deterministic generator,
// and the plain reference loops the kernels are compared against.
#ifndef DIFFREP_TEST_UTIL_H
#define DIFFREP_TEST_UTIL_H

#include "diffrep_ops.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace dtest {

extern int passed, failed;

// Records one check; prints the failing ones (and nothing for the passing ones).
bool check(bool ok, const char* what, const char* file, int line);
#define CHECK_TRUE(cond, what) ::dtest::check((cond), (what), __FILE__, __LINE__)

// splitmix64: deterministic test data.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 40) * (1.0 / 16777216.0)); }
  std::vector<float> floats(size_t n, float lo, float hi) {
    std::vector<float> v(n);
    for (auto& x : v) x = uniform(lo, hi);
    return v;
  }
};

// Reference loops.
void ref_noise(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales, int64_t s,
               const int64_t* ids, uint64_t seed, int clean, float* out);
void ref_pool(const float* x, int64_t n, int64_t c, int64_t hw, double* mean, float* max, float* active,
              float threshold);
void ref_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices);

bool same_bits(const float* a, const float* b, size_t n);

void test_abi();
void test_noise();
void test_noise_statistics();
void test_pool();
void test_topk();
void test_pool_topk();
void test_errors();
void test_isa();
void test_cuda();
void test_ext();
int bench_cpu(int threads);
int bench_isa(int threads, int reps);
int bench_cuda();

}  // namespace dtest

#endif
