// CUDA timing table for tools/device-check.sh: each kernel's median time (CUDA events, after a
// warm-up) as GB/s of memory traffic, next to a device-to-device cudaMemcpy of the same bytes.
#include "test_util.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>

#ifdef DIFFREP_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace dtest {

#ifdef DIFFREP_WITH_CUDA

namespace {

// Median milliseconds of f over reps launches, timed with events on the default stream.
float median_ms(const std::function<int()>& f, int reps) {
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  f();
  cudaDeviceSynchronize();
  std::vector<float> t;
  for (int r = 0; r < reps; ++r) {
    cudaEventRecord(a, nullptr);
    int rc = f();
    cudaEventRecord(b, nullptr);
    cudaEventSynchronize(b);
    if (rc) {
      std::printf("  kernel failed: %s\n", diffrep_last_error());
      break;
    }
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    t.push_back(ms);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  if (t.empty()) return -1;
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void* dev_alloc(size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) return nullptr;
  cudaMemset(p, 0, bytes);
  return p;
}

void line(const std::string& name, double bytes, float ms, float copy_ms) {
  std::printf("| %-34s | %10.3f | %8.1f | %8.1f | %5.2f |\n", name.c_str(), ms, bytes / (ms * 1e-3) / 1e9,
              bytes / (copy_ms * 1e-3) / 1e9, copy_ms / ms);
}

}  // namespace

int bench_cuda() {
  if (diffrep_cuda_device_count() == 0) {
    std::printf("bench-cuda: no usable GPU (%s)\n", diffrep_cuda_status());
    return 1;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  std::printf("CUDA kernels on %s; median of 20 runs after a warm-up; GB/s = (bytes read + written) / time;\n"
              "copy = cudaMemcpy device-to-device moving the same bytes (read + write); ratio = copy time / kernel time\n\n",
              prop.name);
  std::printf("| %-34s | %10s | %8s | %8s | %5s |\n", "kernel", "ms", "GB/s", "copy", "ratio");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(12, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str(), std::string(7, '-').c_str());
  const size_t big = (size_t)1 << 30;
  char* src = (char*)dev_alloc(big / 2);
  char* dst = (char*)dev_alloc(big / 2);
  float* sig = (float*)dev_alloc(64);
  if (!src || !dst || !sig) {
    std::printf("bench-cuda: cudaMalloc failed\n");
    return 1;
  }
  float sig_h[10] = {0.002f, 0.01f, 0.05f, 0.1f, 0.5f, 1, 2, 5, 20, 80};
  cudaMemcpy(sig, sig_h, sizeof sig_h, cudaMemcpyHostToDevice);
  // The copy moving `bytes` of traffic: bytes/2 read and bytes/2 written.
  auto copy_ms = [&](double bytes) {
    size_t half = std::min((size_t)(bytes / 2), big / 2);
    return median_ms([&] { return (int)cudaMemcpyAsync(dst, src, half, cudaMemcpyDeviceToDevice, nullptr); }, 20) *
           (float)((bytes / 2) / (double)half);
  };
  float* x = (float*)src;
  float* out = (float*)dst;
  // Standard normal data in x (noise on zeros), so top-k sees distinct values.
  if (diffrep_noise_inject(out, 1, (int64_t)(big / 8), sig + 5, nullptr, 1, nullptr, 3, 0, x, 0, nullptr) != 0) {
    std::printf("bench-cuda: %s\n", diffrep_last_error());
    return 1;
  }
  {
    const int64_t n = 1024, d = 3072, s = 10;
    const double bytes = 4.0 * (n * d + s * n * d);
    float ms = median_ms([&] { return diffrep_noise_inject(x, n, d, sig, nullptr, s, nullptr, 1, 0, out, 0, nullptr); }, 20);
    line("noise [1024,3072] x 10 sigmas", bytes, ms, copy_ms(bytes));
  }
  const int64_t pools[][3] = {{256, 128, 64}, {256, 512, 256}, {1024, 512, 256}};
  for (auto& p : pools) {
    const int64_t n = p[0], c = p[1], hw = p[2];
    const double bytes = 4.0 * (n * c * hw + n * c);
    std::string shape = "[" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(hw) + "]";
    float* mean = out;
    float* mx = out + n * c;
    int64_t* idx = (int64_t*)(out + 4 * n * c);
    float* vals = out + 2 * n * c;
    float ms = median_ms([&] { return diffrep_pool(x, n, c, hw, mean, nullptr, nullptr, 0, 0, nullptr); }, 20);
    line("pool mean " + shape, bytes, ms, copy_ms(bytes));
    ms = median_ms([&] { return diffrep_pool(x, n, c, hw, mean, mx, out + 2 * n * c, 0, 0, nullptr); }, 20);
    line("pool mean+max+active " + shape, bytes, ms, copy_ms(bytes));
    ms = median_ms([&] { return diffrep_pool_topk(x, n, c, hw, 32, 0, nullptr, vals, idx, 0, nullptr); }, 20);
    line("pool_topk k=32 " + shape, bytes, ms, copy_ms(bytes));
  }
  const int64_t topks[][2] = {{256, 16384}, {4096, 512}};
  for (auto& p : topks) {
    const int64_t n = p[0], c = p[1];
    for (int64_t k : {8, 32, 64, 256}) {
      const double bytes = 4.0 * n * c + 12.0 * n * k;
      float ms = median_ms([&] { return diffrep_topk(x, n, c, k, 0, out, (int64_t*)(out + n * k), 0, nullptr); }, 20);
      line("topk [" + std::to_string(n) + "," + std::to_string(c) + "] k=" + std::to_string(k), bytes, ms, copy_ms(bytes));
    }
  }
  cudaFree(src);
  cudaFree(dst);
  cudaFree(sig);
  return 0;
}

#else

int bench_cuda() {
  std::printf("bench-cuda: this library was built without CUDA\n");
  return 1;
}

#endif

}  // namespace dtest
