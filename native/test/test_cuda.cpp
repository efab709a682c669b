// CUDA kernels against the CPU kernels (bitwise for noise, pool and top-k, since both share the
// same arithmetic and summation order), and the CUDA timing table of tools/device-check.sh.
// Runs only when a GPU is usable; prints "skipped (no GPU)" otherwise.
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#ifdef DIFFREP_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace dtest {

#ifdef DIFFREP_WITH_CUDA

namespace {

// Device copy of a host vector; freed by the destructor.
template <class T>
struct Dev {
  T* p = nullptr;
  size_t n = 0;
  explicit Dev(size_t count) : n(count) {
    if (cudaMalloc(&p, std::max<size_t>(1, n) * sizeof(T)) != cudaSuccess) p = nullptr;
  }
  explicit Dev(const std::vector<T>& h) : Dev(h.size()) {
    if (p) cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~Dev() { cudaFree(p); }
  std::vector<T> host() const {
    std::vector<T> h(n);
    cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }
};

// Bitwise equal, except that any NaN equals any NaN (x86 keeps an operand's NaN payload, the GPU
// returns its canonical NaN).
bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t t = 0; t < a.size(); ++t)
    if (!(std::isnan(a[t]) && std::isnan(b[t])) && !same_bits(&a[t], &b[t], 1)) return false;
  return true;
}

bool cuda_ok(const char* what) {
  cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess) std::printf("  CUDA error after %s: %s\n", what, cudaGetErrorString(e));
  return e == cudaSuccess;
}

void cuda_noise() {
  Rng rng(11);
  const int64_t shapes[][3] = {{3, 1, 1}, {5, 7, 3}, {4, 1029, 10}, {64, 3072, 4}};
  const float sig_h[10] = {0.002f, 0.01f, 0.1f, 0.5f, 1, 2, 5, 10, 40, 80};
  const float sc_h[10] = {1, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
  std::vector<float> sig_v(sig_h, sig_h + 10), sc_v(sc_h, sc_h + 10);
  Dev<float> sig(sig_v), sc(sc_v);
  for (auto& sh : shapes) {
    const int64_t n = sh[0], d = sh[1], s = sh[2];
    auto x = rng.floats((size_t)(n * d), -2, 2);
    std::vector<int64_t> ids((size_t)n);
    for (auto& v : ids) v = (int64_t)(rng.next() >> 1);
    Dev<float> dx(x);
    Dev<int64_t> dids(ids);
    for (int clean = 0; clean < 2; ++clean)
      for (int use_ids = 0; use_ids < 2; ++use_ids) {
        std::vector<float> want((size_t)(s * n * d));
        Dev<float> dout(want.size());
        diffrep_noise_inject(x.data(), n, d, sig_h, sc_h, s, use_ids ? ids.data() : nullptr, 99, clean, want.data(), -1, nullptr);
        int rc = diffrep_noise_inject(dx.p, n, d, sig.p, sc.p, s, use_ids ? dids.p : nullptr, 99, clean, dout.p, 0, nullptr);
        bool ok = rc == 0 && cuda_ok("noise");
        ok = ok && same_bits(dout.host().data(), want.data(), want.size());
        if (rc) std::printf("  %s\n", diffrep_last_error());
        std::string what = "CUDA noise n=" + std::to_string(n) + " d=" + std::to_string(d) + " s=" + std::to_string(s) +
                           " clean=" + std::to_string(clean) + " ids=" + std::to_string(use_ids) + " equals CPU bitwise";
        CHECK_TRUE(ok, what.c_str());
      }
  }
}

void cuda_pool() {
  Rng rng(12);
  const int64_t shapes[][3] = {{2, 3, 1}, {3, 5, 7}, {4, 16, 16}, {2, 9, 33}, {16, 128, 64}, {4, 512, 256}};
  for (auto& sh : shapes) {
    const int64_t n = sh[0], c = sh[1], hw = sh[2];
    auto x = rng.floats((size_t)(n * c * hw), -3, 3);
    if (hw > 4) {
      x[0] = NAN;
      x[(size_t)hw + 1] = INFINITY;
    }
    const size_t rows = (size_t)(n * c);
    std::vector<float> mean(rows), mx(rows), act(rows);
    diffrep_pool(x.data(), n, c, hw, mean.data(), mx.data(), act.data(), 0.25f, -1, nullptr);
    Dev<float> dx(x), dmean(rows), dmax(rows), dact(rows);
    int rc = diffrep_pool(dx.p, n, c, hw, dmean.p, dmax.p, dact.p, 0.25f, 0, nullptr);
    bool ok = rc == 0 && cuda_ok("pool");
    ok = ok && same_floats(dmean.host(), mean) && same_floats(dmax.host(), mx) && same_floats(dact.host(), act);
    rc = diffrep_pool(dx.p, n, c, hw, dmean.p, nullptr, nullptr, 0.25f, 0, nullptr);
    ok = ok && rc == 0 && cuda_ok("pool") && same_floats(dmean.host(), mean);
    std::string what = "CUDA pool n=" + std::to_string(n) + " c=" + std::to_string(c) + " hw=" + std::to_string(hw) +
                       " equals CPU bitwise";
    CHECK_TRUE(ok, what.c_str());
  }
}

void cuda_topk() {
  Rng rng(13);
  const int64_t shapes[][2] = {{3, 1}, {4, 7}, {5, 64}, {3, 129}, {8, 512}, {2, 1000}, {4, 16384}};
  for (auto& sh : shapes) {
    const int64_t n = sh[0], c = sh[1];
    for (int kind = 0; kind < 2; ++kind) {
      std::vector<float> x((size_t)(n * c));
      for (auto& v : x) v = kind == 0 ? rng.uniform(-10, 10) : (float)((int)(rng.next() % 7) - 3);
      if (kind == 1) x[0] = NAN, x[c > 3 ? 3 : 0] = -INFINITY;
      Dev<float> dx(x);
      for (int64_t k : {(int64_t)1, (int64_t)8, (int64_t)64, (int64_t)129, c / 2, c}) {
        if (k < 1 || k > c) continue;
        for (int by = 0; by < 2; ++by) {
          std::vector<float> v((size_t)(n * k));
          std::vector<int64_t> i(v.size());
          diffrep_topk(x.data(), n, c, k, by, v.data(), i.data(), -1, nullptr);
          Dev<float> dv(v.size());
          Dev<int64_t> di(i.size());
          int rc = diffrep_topk(dx.p, n, c, k, by, dv.p, di.p, 0, nullptr);
          bool ok = rc == 0 && cuda_ok("topk");
          ok = ok && di.host() == i && same_bits(dv.host().data(), v.data(), v.size());
          std::string what = "CUDA topk n=" + std::to_string(n) + " c=" + std::to_string(c) + " k=" + std::to_string(k) +
                             (by ? " magnitude" : " value") + (kind ? " ties/NaN" : "") + " equals CPU";
          CHECK_TRUE(ok, what.c_str());
        }
      }
    }
  }
  // pool_topk, with and without the mean
  const int64_t n = 8, c = 512, hw = 49, k = 32;
  auto x = rng.floats((size_t)(n * c * hw), -1, 1);
  std::vector<float> mean((size_t)(n * c)), v((size_t)(n * k));
  std::vector<int64_t> i(v.size());
  diffrep_pool_topk(x.data(), n, c, hw, k, 0, mean.data(), v.data(), i.data(), -1, nullptr);
  Dev<float> dx(x), dmean(mean.size()), dv(v.size());
  Dev<int64_t> di(i.size());
  int rc = diffrep_pool_topk(dx.p, n, c, hw, k, 0, dmean.p, dv.p, di.p, 0, nullptr);
  bool ok = rc == 0 && cuda_ok("pool_topk") && di.host() == i && same_bits(dv.host().data(), v.data(), v.size()) &&
            same_bits(dmean.host().data(), mean.data(), mean.size());
  CHECK_TRUE(ok, "CUDA pool_topk equals CPU");
  rc = diffrep_pool_topk(dx.p, n, c, hw, k, 0, nullptr, dv.p, di.p, 0, nullptr);
  ok = rc == 0 && cuda_ok("pool_topk") && di.host() == i && same_bits(dv.host().data(), v.data(), v.size());
  CHECK_TRUE(ok, "CUDA pool_topk with mean NULL equals CPU");
}


}  // namespace

void test_cuda() {
  if (diffrep_cuda_device_count() == 0) {
    std::printf("CUDA vs CPU: skipped (no GPU): %s\n", diffrep_cuda_status());
    return;
  }
  cuda_noise();
  cuda_pool();
  cuda_topk();
  // An asynchronous call on a caller's stream.
  cudaStream_t st;
  if (cudaStreamCreate(&st) == cudaSuccess) {
    std::vector<float> x(1000, 1.0f), m(10);
    Dev<float> dx(x), dm(10);
    int rc = diffrep_pool(dx.p, 1, 10, 100, dm.p, nullptr, nullptr, 0, 0, st);
    cudaStreamSynchronize(st);
    CHECK_TRUE(rc == 0 && dm.host() == std::vector<float>(10, 1.0f), "CUDA pool on a caller's stream");
    cudaStreamDestroy(st);
  }
}

#else

void test_cuda() { std::printf("CUDA vs CPU: skipped (no GPU): %s\n", diffrep_cuda_status()); }

#endif

}  // namespace dtest
