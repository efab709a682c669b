// CPU micro-benchmark: median time of each kernel on the sizes the Java benchmark uses, as
// ns per input element and GB/s of memory traffic (bytes read + written).
#include "test_util.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <functional>
#include <string>

namespace dtest {

static double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Median wall time; the median CPU time of the process (all threads) goes to *cpu. On a shared
// machine the CPU time divided by the thread count is the better estimate of an unloaded run.
static double last_cpu = 0;
static double median_seconds(const std::function<void()>& f, int reps) {
  f();  // warm-up
  std::vector<double> t, c;
  for (int r = 0; r < reps; ++r) {
    const double c0 = cpu_seconds();
    auto a = std::chrono::steady_clock::now();
    f();
    auto b = std::chrono::steady_clock::now();
    c.push_back(cpu_seconds() - c0);
    t.push_back(std::chrono::duration<double>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  std::sort(c.begin(), c.end());
  last_cpu = c[c.size() / 2];
  return t[t.size() / 2];
}

static int bench_threads = 1;
static void row(const std::string& name, double sec, double elements, double bytes) {
  const double cpu = last_cpu / bench_threads;  // CPU seconds per thread
  std::printf("%-36s %9.3f ms %7.3f ns/el %7.2f GB/s | cpu/thread %9.3f ms %7.3f ns/el %7.2f GB/s\n", name.c_str(),
              sec * 1e3, sec * 1e9 / elements, bytes / sec / 1e9, cpu * 1e3, cpu * 1e9 / elements, bytes / cpu / 1e9);
}

// The same kernels on each instruction set this CPU runs (diffrep_set_cpu_isa), interleaved so that
// all of them see the same load; plus a plain streaming read of the pooled tensor's bytes, the
// memory bandwidth that pool and pool+top-k are measured against.
int bench_isa(int threads, int reps) {
  diffrep_set_num_threads(threads);
  std::vector<const char*> isas;
  for (const char* isa : {"avx512", "avx2", "portable"})
    if (diffrep_set_cpu_isa(isa) == 0) isas.push_back(isa);
  std::printf("CPU kernels per ISA, %d thread(s); median of %d interleaved runs (ms)\n", diffrep_get_num_threads(), reps);
  std::printf("%-34s", "case");
  for (const char* isa : isas) std::printf(" %10s", isa);
  std::printf("\n");
  Rng rng(11);
  struct Case {
    std::string name;
    std::function<void()> run;
  };
  const float sig[10] = {0.002f, 0.008f, 0.023f, 0.060f, 0.140f, 0.296f, 0.585f, 1.088f, 1.923f, 3.257f};
  std::vector<std::vector<float>> keep;
  std::vector<std::vector<int64_t>> keep_idx;
  std::vector<Case> cases;
  for (int64_t d : {784, 8192}) {
    const int64_t n = 256, s = 10;
    keep.push_back(rng.floats((size_t)(n * d), -1, 1));
    keep.emplace_back((size_t)(s * n * d));
    const float* x = keep[keep.size() - 2].data();
    float* out = keep.back().data();
    cases.push_back({"noise x10 [256," + std::to_string(d) + "]",
                     [=] { diffrep_noise_inject(x, n, d, sig, nullptr, s, nullptr, 1, 0, out, -1, nullptr); }});
  }
  for (auto p : {std::vector<int64_t>{256, 128, 64, 8}, std::vector<int64_t>{256, 512, 256, 32}}) {
    const int64_t n = p[0], c = p[1], hw = p[2], k = p[3];
    keep.push_back(rng.floats((size_t)(n * c * hw), -1, 1));
    const float* x = keep.back().data();
    keep.emplace_back((size_t)(n * c));
    float* mean = keep.back().data();
    keep.emplace_back((size_t)(n * k));
    float* v = keep.back().data();
    keep_idx.emplace_back((size_t)(n * k));
    int64_t* idx = keep_idx.back().data();
    const std::string shape = "[" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(hw) + "]";
    const int64_t total = n * c * hw;
    cases.push_back({"pool " + shape, [=] { diffrep_pool(x, n, c, hw, mean, nullptr, nullptr, 0, -1, nullptr); }});
    cases.push_back({"pool+topk k=" + std::to_string(k) + " " + shape,
                     [=] { diffrep_pool_topk(x, n, c, hw, k, 0, nullptr, v, idx, -1, nullptr); }});
    // Streaming read of the same bytes: xor of 32-bit words (no float rounding, so it vectorises).
    cases.push_back({"stream read " + shape, [=] {
                       const uint32_t* w = reinterpret_cast<const uint32_t*>(x);
                       uint32_t acc = 0;
#pragma omp parallel for reduction(^ : acc) num_threads(threads) schedule(static)
                       for (int64_t t = 0; t < total; ++t) acc ^= w[t];
                       volatile uint32_t sink = acc;
                       (void)sink;
                     }});
  }
  for (int64_t c : {16384, 512}) {
    const int64_t n = 256, k = 32;
    keep.push_back(rng.floats((size_t)(n * c), -1, 1));
    const float* x = keep.back().data();
    keep.emplace_back((size_t)(n * k));
    float* v = keep.back().data();
    keep_idx.emplace_back((size_t)(n * k));
    int64_t* idx = keep_idx.back().data();
    cases.push_back({"topk k=32 [256," + std::to_string(c) + "]",
                     [=] { diffrep_topk(x, n, c, k, 0, v, idx, -1, nullptr); }});
  }
  for (auto& cs : cases) {
    std::vector<std::vector<double>> t(isas.size());
    for (size_t i = 0; i < isas.size(); ++i) {
      diffrep_set_cpu_isa(isas[i]);
      cs.run();  // warm-up
    }
    for (int r = 0; r < reps; ++r)
      for (size_t i = 0; i < isas.size(); ++i) {
        diffrep_set_cpu_isa(isas[i]);
        auto a = std::chrono::steady_clock::now();
        cs.run();
        t[i].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
      }
    std::printf("%-34s", cs.name.c_str());
    for (auto& ti : t) {
      std::sort(ti.begin(), ti.end());
      std::printf(" %10.3f", 1e3 * ti[ti.size() / 2]);
    }
    std::printf("\n");
  }
  diffrep_set_cpu_isa(nullptr);
  return 0;
}

int bench_cpu(int threads) {
  diffrep_set_num_threads(threads);
  bench_threads = diffrep_get_num_threads();
  std::printf("CPU kernels, %d thread(s); median of repeated runs\n", diffrep_get_num_threads());
  Rng rng(9);
  {  // noise: [256, 3072] over 10 sigmas -> [10, 256, 3072]
    const int64_t n = 256, d = 3072, s = 10;
    auto x = rng.floats((size_t)(n * d), -1, 1);
    std::vector<float> out((size_t)(s * n * d));
    float sig[10] = {0.002f, 0.01f, 0.05f, 0.1f, 0.5f, 1, 2, 5, 20, 80};
    double t = median_seconds([&] { diffrep_noise_inject(x.data(), n, d, sig, nullptr, s, nullptr, 1, 0, out.data(), -1, nullptr); }, 7);
    row("noise [256,3072] x 10 sigmas", t, (double)(s * n * d), 4.0 * (n * d + s * n * d));
    t = median_seconds([&] { diffrep_noise_inject(x.data(), n, d, sig, nullptr, s, nullptr, 1, 1, out.data(), -1, nullptr); }, 7);
    row("noise clean [256,3072] x 10", t, (double)(s * n * d), 4.0 * (n * d + s * n * d));
  }
  const int64_t pools[][3] = {{256, 128, 64}, {256, 512, 256}};
  for (auto& p : pools) {
    const int64_t n = p[0], c = p[1], hw = p[2];
    auto x = rng.floats((size_t)(n * c * hw), -1, 1);
    std::vector<float> mean((size_t)(n * c)), mx(mean.size()), act(mean.size()), v((size_t)(n * 64));
    std::vector<int64_t> idx(v.size());
    std::string shape = "[" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(hw) + "]";
    const double el = (double)(n * c * hw), by = 4.0 * el;
    double t = median_seconds([&] { diffrep_pool(x.data(), n, c, hw, mean.data(), nullptr, nullptr, 0, -1, nullptr); }, 9);
    row("pool mean " + shape, t, el, by);
    t = median_seconds([&] { diffrep_pool(x.data(), n, c, hw, mean.data(), mx.data(), act.data(), 0, -1, nullptr); }, 9);
    row("pool mean+max+active " + shape, t, el, by);
    t = median_seconds([&] { diffrep_pool_topk(x.data(), n, c, hw, 32, 0, nullptr, v.data(), idx.data(), -1, nullptr); }, 9);
    row("pool_topk k=32 " + shape, t, el, by);
  }
  const int64_t topks[][2] = {{256, 16384}, {256, 512}, {4096, 512}};
  for (auto& p : topks) {
    const int64_t n = p[0], c = p[1];
    auto x = rng.floats((size_t)(n * c), -1, 1);
    for (int64_t k : {8, 32, 64, 256}) {
      std::vector<float> v((size_t)(n * k));
      std::vector<int64_t> idx(v.size());
      for (int by = 0; by < 2; ++by) {
        double t = median_seconds([&] { diffrep_topk(x.data(), n, c, k, by, v.data(), idx.data(), -1, nullptr); }, 9);
        row("topk [" + std::to_string(n) + "," + std::to_string(c) + "] k=" + std::to_string(k) + (by ? " magnitude" : ""),
            t, (double)(n * c), 4.0 * n * c);
      }
    }
  }
  return 0;
}

}  // namespace dtest
