// The forced instruction-set paths (diffrep_set_cpu_isa, DIFFREP_CPU_ISA): every kernel on every
// path this CPU runs against the portable path, bit for bit (noise, pool mean/max/active, top-k
// values and indices, pool+top-k), on sizes that hit the vector tails; and the switch's errors.
#include "test_util.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace dtest {

namespace {

// Every output of every kernel on a fixed set of inputs, concatenated as bytes.
std::vector<unsigned char> all_outputs() {
  std::vector<unsigned char> bytes;
  auto put = [&](const void* p, size_t n) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    bytes.insert(bytes.end(), b, b + n);
  };
  Rng rng(77);
  const float sigmas[10] = {0.002f, 0.008f, 0.023f, 0.060f, 0.140f, 0.296f, 0.585f, 1.088f, 1.923f, 3.257f};
  const float scales[10] = {1, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
  // Noise: d around the 8-, 16- and 32-element steps and the 1024-element work item.
  for (int64_t d : {1, 3, 5, 8, 17, 31, 32, 33, 63, 100, 784, 1023, 1024, 1029, 3000}) {
    const int64_t n = 3, s = 10;
    auto x = rng.floats((size_t)(n * d), -2, 2);
    const int64_t ids[3] = {5, (int64_t)1 << 40, 123456789};
    std::vector<float> out((size_t)(s * n * d));
    for (int clean = 0; clean < 2; ++clean) {
      diffrep_noise_inject(x.data(), n, d, sigmas, scales, s, ids, 0x1234567890abcdefull, clean, out.data(), -1, nullptr);
      put(out.data(), out.size() * 4);
      diffrep_noise_inject(x.data(), n, d, sigmas, nullptr, s, nullptr, 3, clean, out.data(), -1, nullptr);
      put(out.data(), out.size() * 4);
    }
  }
  // Pool with specials (NaN, +-inf, +-0, values at the threshold) over many hw.
  for (int64_t hw : {1, 2, 7, 15, 16, 17, 31, 33, 64, 100, 256, 1000}) {
    const int64_t n = 3, c = 7;
    auto x = rng.floats((size_t)(n * c * hw), -3, 3);
    x[0] = NAN;
    x[(size_t)(c * hw) - 1] = INFINITY;
    x[(size_t)(2 * hw) % x.size()] = -INFINITY;
    x[(size_t)(3 * hw) % x.size()] = 0.5f;
    x[(size_t)(4 * hw) % x.size()] = -0.0f;
    std::vector<float> mean((size_t)(n * c)), mx(mean.size()), act(mean.size());
    diffrep_pool(x.data(), n, c, hw, mean.data(), mx.data(), act.data(), 0.5f, -1, nullptr);
    put(mean.data(), mean.size() * 4);
    put(mx.data(), mx.size() * 4);
    put(act.data(), act.size() * 4);
    diffrep_pool(x.data(), n, c, hw, mean.data(), nullptr, nullptr, 0, -1, nullptr);
    put(mean.data(), mean.size() * 4);
  }
  // Top-k: short rows (both short-row methods) and long rows (filtering), ties, NaN, -0.
  for (int64_t c : {1, 5, 16, 17, 63, 64, 65, 512, 2048, 2049, 5000}) {
    const int64_t n = 4;
    auto x = rng.floats((size_t)(n * c), -1, 1);
    for (int64_t t = 0; t < n * c; t += 7) x[(size_t)t] = 0.25f;  // ties
    if (c > 3) {
      x[1] = NAN;
      x[2] = -0.0f;
      x[3] = 0.0f;
      x[(size_t)c] = -INFINITY;
    }
    for (int64_t k : {(int64_t)1, (int64_t)8, (int64_t)16, (int64_t)17, (int64_t)64, c}) {
      if (k > c) continue;
      std::vector<float> v((size_t)(n * k));
      std::vector<int64_t> idx(v.size());
      for (int by = 0; by < 2; ++by) {
        diffrep_topk(x.data(), n, c, k, by, v.data(), idx.data(), -1, nullptr);
        put(v.data(), v.size() * 4);
        put(idx.data(), idx.size() * 8);
      }
    }
  }
  // Pool + top-k.
  for (auto sh : {std::vector<int64_t>{3, 128, 64, 8}, std::vector<int64_t>{2, 512, 17, 32}, std::vector<int64_t>{2, 3000, 4, 100}}) {
    const int64_t n = sh[0], c = sh[1], hw = sh[2], k = sh[3];
    auto x = rng.floats((size_t)(n * c * hw), -1, 1);
    std::vector<float> mean((size_t)(n * c)), v((size_t)(n * k));
    std::vector<int64_t> idx(v.size());
    for (int by = 0; by < 2; ++by) {
      diffrep_pool_topk(x.data(), n, c, hw, k, by, mean.data(), v.data(), idx.data(), -1, nullptr);
      put(mean.data(), mean.size() * 4);
      put(v.data(), v.size() * 4);
      put(idx.data(), idx.size() * 8);
    }
  }
  return bytes;
}

}  // namespace

void test_isa() {
  const std::string at_load = diffrep_cpu_isa();
  std::printf("  CPU kernels: %s\n", diffrep_cpu_isa_status());
  CHECK_TRUE(at_load == "avx512" || at_load == "avx2" || at_load == "portable", "diffrep_cpu_isa names a path");
  // DIFFREP_CPU_ISA, read at load, is honoured when this CPU runs it (run.sh runs the suite so).
  const char* env = std::getenv("DIFFREP_CPU_ISA");
  if (env && (std::strcmp(env, "avx2") == 0 || std::strcmp(env, "portable") == 0 || std::strcmp(env, "avx512") == 0)) {
    const bool runs = diffrep_set_cpu_isa(env) == DIFFREP_OK;
    diffrep_set_cpu_isa(at_load.c_str());
    CHECK_TRUE(!runs || at_load == env, ("DIFFREP_CPU_ISA=" + std::string(env) + " chose that path at load").c_str());
  }
  CHECK_TRUE(diffrep_set_cpu_isa("sse9") == DIFFREP_EINVAL && std::strlen(diffrep_last_error()) > 0,
             "an unknown ISA name is refused with a message");
  CHECK_TRUE(diffrep_set_cpu_isa("portable") == DIFFREP_OK && std::strcmp(diffrep_cpu_isa(), "portable") == 0,
             "the portable path can always be forced");
  const std::vector<unsigned char> want = all_outputs();
  for (const char* isa : {"avx2", "avx512"}) {
    if (diffrep_set_cpu_isa(isa) != DIFFREP_OK) {
      CHECK_TRUE(std::strlen(diffrep_last_error()) > 0, "an ISA this CPU lacks is refused with a message");
      std::printf("  %s vs portable: skipped (%s)\n", isa, diffrep_last_error());
      continue;
    }
    CHECK_TRUE(std::strcmp(diffrep_cpu_isa(), isa) == 0, (std::string("forced ") + isa + " is reported").c_str());
    for (int threads : {1, 2, 3}) {
      diffrep_set_num_threads(threads);
      const std::vector<unsigned char> got = all_outputs();
      CHECK_TRUE(got.size() == want.size() && std::memcmp(got.data(), want.data(), got.size()) == 0,
                 (std::string(isa) + " equals portable bitwise (noise, pool, top-k, pool+top-k), " +
                  std::to_string(threads) + " thread(s)").c_str());
    }
    diffrep_set_num_threads(0);
  }
  CHECK_TRUE(diffrep_set_cpu_isa(nullptr) == DIFFREP_OK && diffrep_set_cpu_isa("auto") == DIFFREP_OK,
             "auto (NULL) picks the best again");
  diffrep_set_cpu_isa(at_load.c_str());
}

}  // namespace dtest
