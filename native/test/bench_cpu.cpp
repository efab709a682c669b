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
