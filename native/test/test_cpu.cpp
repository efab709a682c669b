// CPU kernels against plain reference loops; noise statistics; argument errors.
#include "philox.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

namespace dtest {

int passed = 0, failed = 0;

bool check(bool ok, const char* what, const char* file, int line) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::printf("FAIL %s (%s:%d)\n", what, file, line);
  }
  return ok;
}

bool same_bits(const float* a, const float* b, size_t n) { return n == 0 || std::memcmp(a, b, n * 4) == 0; }

void ref_noise(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales, int64_t s,
               const int64_t* ids, uint64_t seed, int clean, float* out) {
  for (int64_t j = 0; j < s; ++j)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < d; ++k) {
        float z[4] = {0, 0, 0, 0};
        if (!clean) diffrep::normal4(seed, ids ? (uint64_t)ids[i] : (uint64_t)i, (uint32_t)j, (uint32_t)(k / 4), z);
        const float sc = scales ? scales[j] : 1.0f;
        out[(j * n + i) * d + k] = clean ? sc * x0[i * d + k] : sc * (x0[i * d + k] + sigmas[j] * z[k % 4]);
      }
}

void ref_pool(const float* x, int64_t n, int64_t c, int64_t hw, double* mean, float* max, float* active,
              float threshold) {
  for (int64_t r = 0; r < n * c; ++r) {
    double sum = 0;
    float mx = -INFINITY;
    bool nan = false;
    int64_t above = 0;
    for (int64_t t = 0; t < hw; ++t) {
      const float v = x[r * hw + t];
      sum += v;
      if (std::isnan(v)) nan = true;
      else mx = std::max(mx, v);
      above += v > threshold;
    }
    mean[r] = sum / (double)hw;
    max[r] = nan ? NAN : mx + 0.0f;  // a zero maximum is +0
    active[r] = (float)above / (float)hw;
  }
}

void ref_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices) {
  std::vector<int64_t> idx((size_t)c);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = x + i * c;
    std::iota(idx.begin(), idx.end(), 0);
    auto key = [&](int64_t t) { return by == DIFFREP_TOPK_MAGNITUDE ? std::fabs(row[t]) : row[t]; };
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
      const float ka = key(a), kb = key(b);
      if (std::isnan(ka) || std::isnan(kb)) return std::isnan(ka) && !std::isnan(kb);
      return ka > kb;
    });
    for (int64_t t = 0; t < k; ++t) {
      indices[i * k + t] = idx[(size_t)t];
      values[i * k + t] = row[idx[(size_t)t]];
    }
  }
}

void test_abi() {
  CHECK_TRUE(diffrep_abi_version() == DIFFREP_ABI_VERSION, "ABI version");
  const int count = diffrep_cuda_device_count();
  CHECK_TRUE(count >= 0 && (diffrep_cuda_compiled() || count == 0), "CUDA device count");
  CHECK_TRUE(diffrep_cuda_device_count() == count, "CUDA device count is stable");
  diffrep_set_num_threads(3);
  CHECK_TRUE(diffrep_get_num_threads() == 3, "set/get threads");
  diffrep_set_num_threads(0);
  CHECK_TRUE(diffrep_get_num_threads() >= 1, "threads default to all cores");
}

// Philox4x32-10 against the known-answer vectors of Random123 (kat_vectors).
static void test_philox_kat() {
  struct Kat { uint32_t ctr[4], key[2], out[4]; };
  const Kat kats[3] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
      {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu},
       {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
      {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u},
       {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}};
  bool ok = true;
  for (const Kat& kat : kats) {
    diffrep::u32x4 c;
    for (int t = 0; t < 4; ++t) c.v[t] = kat.ctr[t];
    const diffrep::u32x4 r = diffrep::philox4x32_10(c, kat.key[0], kat.key[1]);
    for (int t = 0; t < 4; ++t) ok &= r.v[t] == kat.out[t];
  }
  CHECK_TRUE(ok, "Philox4x32-10 matches the Random123 known answers");
}

void test_noise() {
  test_philox_kat();
  Rng rng(1);
  const int64_t shapes[][3] = {{3, 1, 1}, {5, 7, 3}, {4, 1029, 10}, {2, 3000, 2}, {1, 4096, 1}};
  const float sigmas[10] = {0.002f, 0.01f, 0.1f, 0.5f, 1, 2, 5, 10, 40, 80};
  const float scales[10] = {1, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
  for (auto& sh : shapes) {
    const int64_t n = sh[0], d = sh[1], s = sh[2];
    auto x = rng.floats((size_t)(n * d), -2, 2);
    std::vector<int64_t> ids((size_t)n);
    for (auto& v : ids) v = (int64_t)(rng.next() >> 1);
    std::vector<float> got((size_t)(s * n * d)), want(got.size());
    for (int clean = 0; clean < 2; ++clean)
      for (int use_ids = 0; use_ids < 2; ++use_ids)
        for (int use_scales = 0; use_scales < 2; ++use_scales) {
          const int64_t* id = use_ids ? ids.data() : nullptr;
          const float* sc = use_scales ? scales : nullptr;
          int rc = diffrep_noise_inject(x.data(), n, d, sigmas, sc, s, id, 42, clean, got.data(), -1, nullptr);
          ref_noise(x.data(), n, d, sigmas, sc, s, id, 42, clean, want.data());
          std::string what = "noise n=" + std::to_string(n) + " d=" + std::to_string(d) + " s=" +
                             std::to_string(s) + " clean=" + std::to_string(clean) + " ids=" +
                             std::to_string(use_ids) + " scales=" + std::to_string(use_scales) +
                             " equals the scalar reference bitwise";
          CHECK_TRUE(rc == 0 && same_bits(got.data(), want.data(), got.size()), what.c_str());
        }
  }
  // A sample's noise is the same whatever the batch, its position and the thread count.
  const int64_t n = 6, d = 2050, s = 3;
  auto x = rng.floats((size_t)(n * d), -1, 1);
  const int64_t ids[6] = {10, 11, 12, 13, 14, (int64_t)1 << 40};
  std::vector<float> full((size_t)(s * n * d));
  diffrep_set_num_threads(1);
  diffrep_noise_inject(x.data(), n, d, sigmas, nullptr, s, ids, 7, 0, full.data(), -1, nullptr);
  for (int threads : {2, 3, 5}) {
    diffrep_set_num_threads(threads);
    std::vector<float> again(full.size());
    diffrep_noise_inject(x.data(), n, d, sigmas, nullptr, s, ids, 7, 0, again.data(), -1, nullptr);
    CHECK_TRUE(same_bits(full.data(), again.data(), full.size()),
               ("noise independent of thread count " + std::to_string(threads)).c_str());
  }
  diffrep_set_num_threads(0);
  // The last two samples, reversed, as a batch of their own.
  const int64_t sub_ids[2] = {ids[5], ids[4]};
  std::vector<float> sub_x((size_t)(2 * d)), sub((size_t)(s * 2 * d));
  std::copy(x.begin() + 5 * d, x.begin() + 6 * d, sub_x.begin());
  std::copy(x.begin() + 4 * d, x.begin() + 5 * d, sub_x.begin() + d);
  diffrep_noise_inject(sub_x.data(), 2, d, sigmas, nullptr, s, sub_ids, 7, 0, sub.data(), -1, nullptr);
  bool same = true;
  for (int64_t j = 0; j < s; ++j) {
    same &= same_bits(&sub[(size_t)((j * 2 + 0) * d)], &full[(size_t)((j * n + 5) * d)], (size_t)d);
    same &= same_bits(&sub[(size_t)((j * 2 + 1) * d)], &full[(size_t)((j * n + 4) * d)], (size_t)d);
  }
  CHECK_TRUE(same, "noise independent of batch split and order");
  // Different seeds give different noise.
  std::vector<float> other(full.size());
  diffrep_noise_inject(x.data(), n, d, sigmas, nullptr, s, ids, 8, 0, other.data(), -1, nullptr);
  CHECK_TRUE(!same_bits(full.data(), other.data(), full.size()), "noise depends on the seed");
}

// Moments and tails of 8M draws against the standard normal; the polynomial Box-Muller against
// libm's in double on the same words.
void test_noise_statistics() {
  const int64_t n = 64, d = 65536;  // 4M draws per sigma index, two sigma indices
  const float sigmas[2] = {1, 1};
  std::vector<float> zero((size_t)(n * d), 0.0f), eps((size_t)(2 * n * d));
  diffrep_noise_inject(zero.data(), n, d, sigmas, nullptr, 2, nullptr, 2024, 0, eps.data(), -1, nullptr);
  const double N = (double)eps.size();
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  int64_t tail[5] = {0, 0, 0, 0, 0};  // |z| > 1, 2, 3, 4, 5
  for (float z : eps) {
    const double v = z;
    m1 += v;
    m2 += v * v;
    m3 += v * v * v;
    m4 += v * v * v * v;
    for (int t = 0; t < 5; ++t) tail[t] += std::fabs(v) > t + 1;
  }
  m1 /= N;
  m2 /= N;
  m3 /= N;
  m4 /= N;
  const double se = 1 / std::sqrt(N);
  std::printf("  noise stats over %.0f draws: mean %.2e, var %.6f, skew %.2e, kurtosis %.5f\n", N, m1, m2, m3, m4);
  CHECK_TRUE(std::fabs(m1) < 5 * se, "noise mean 0 (within 5 standard errors)");
  CHECK_TRUE(std::fabs(m2 - 1) < 5 * std::sqrt(2.0) * se, "noise variance 1");
  CHECK_TRUE(std::fabs(m3) < 5 * std::sqrt(15.0) * se, "noise skewness 0");
  CHECK_TRUE(std::fabs(m4 - 3) < 5 * std::sqrt(96.0) * se, "noise kurtosis 3");
  bool tails_ok = true;
  for (int t = 0; t < 5; ++t) {
    const double p = std::erfc((t + 1) / std::sqrt(2.0));
    const double expect = p * N, sd = std::sqrt(N * p * (1 - p));
    std::printf("  P(|z| > %d): %.3e observed, %.3e exact\n", t + 1, tail[t] / N, p);
    tails_ok &= std::fabs(tail[t] - expect) < 5 * sd + 2;
  }
  CHECK_TRUE(tails_ok, "noise tails P(|z| > 1..5) match the normal distribution");
  // Two-sample correlations: across sigma indices and across neighbouring sample ids.
  double cj = 0, ci = 0;
  for (int64_t i = 0; i < n * d; ++i) cj += (double)eps[(size_t)i] * eps[(size_t)(n * d + i)];
  for (int64_t i = 0; i < (n - 1) * d; ++i) ci += (double)eps[(size_t)i] * eps[(size_t)(i + d)];
  cj /= (double)(n * d);
  ci /= (double)((n - 1) * d);
  CHECK_TRUE(std::fabs(cj) < 5 / std::sqrt((double)(n * d)), "noise uncorrelated across sigma indices");
  CHECK_TRUE(std::fabs(ci) < 5 / std::sqrt((double)((n - 1) * d)), "noise uncorrelated across sample ids");
  // Polynomial log/sincos against libm in double on one million words.
  Rng rng(5);
  double worst = 0;
  for (int t = 0; t < 1000000; ++t) {
    const uint32_t a = (uint32_t)rng.next(), b = (uint32_t)rng.next();
    float z0, z1;
    diffrep::box_muller(a, b, &z0, &z1);
    const double u = ((double)(a >> 8) + 1) / 16777216.0, ang = 6.283185307179586 * (b / 4294967296.0);
    const double r = std::sqrt(-2 * std::log(u));
    worst = std::max({worst, std::fabs(z0 - r * std::cos(ang)), std::fabs(z1 - r * std::sin(ang))});
  }
  std::printf("  float Box-Muller vs double libm: max abs error %.2e\n", worst);
  CHECK_TRUE(worst < 4e-6, "float Box-Muller within 4e-6 of the exact transform");
}

void test_pool() {
  Rng rng(2);
  const int64_t shapes[][3] = {{2, 3, 1}, {3, 5, 7}, {4, 16, 16}, {2, 9, 33}, {3, 4, 64}, {1, 3, 1000}};
  for (auto& sh : shapes) {
    const int64_t n = sh[0], c = sh[1], hw = sh[2];
    auto x = rng.floats((size_t)(n * c * hw), -3, 3);
    if (hw > 4) {  // specials in a few rows
      x[0] = NAN;
      x[(size_t)hw + 1] = INFINITY;
      x[(size_t)(2 * hw) + 2] = -INFINITY;
      x[(size_t)(3 * hw)] = 0.5f;  // equal to the threshold: not active
    }
    if (n * c > 5 && hw > 2) {  // a row whose maximum is zero of both signs: reported as +0
      for (int64_t t = 0; t < hw; ++t) x[(size_t)(5 * hw + t)] = -1.0f;
      x[(size_t)(5 * hw + 1)] = -0.0f;
      x[(size_t)(5 * hw + 2)] = 0.0f;
    }
    const size_t rows = (size_t)(n * c);
    std::vector<double> rmean(rows);
    std::vector<float> rmax(rows), ract(rows), mean(rows), max(rows), act(rows);
    ref_pool(x.data(), n, c, hw, rmean.data(), rmax.data(), ract.data(), 0.5f);
    int rc = diffrep_pool(x.data(), n, c, hw, mean.data(), max.data(), act.data(), 0.5f, -1, nullptr);
    bool mean_ok = true, max_ok = true, act_ok = true;
    for (size_t r = 0; r < rows; ++r) {
      // Error bound of the float lane sums (pool_order.h) for |x| <= 3.
      const double tol = ((double)hw / 16 + 5) * 6e-8 * 3.0;
      if (std::isnan(rmean[r]) || std::isinf(rmean[r])) mean_ok &= std::isnan(rmean[r]) ? std::isnan(mean[r]) : mean[r] == rmean[r];
      else mean_ok &= std::fabs(mean[r] - rmean[r]) <= tol;
      max_ok &= std::isnan(rmax[r]) ? std::isnan(max[r]) : same_bits(&max[r], &rmax[r], 1);
      act_ok &= act[r] == ract[r];
    }
    std::string tag = " n=" + std::to_string(n) + " c=" + std::to_string(c) + " hw=" + std::to_string(hw);
    CHECK_TRUE(rc == 0 && mean_ok, ("pool mean" + tag).c_str());
    CHECK_TRUE(max_ok, ("pool max (NaN propagates)" + tag).c_str());
    CHECK_TRUE(act_ok, ("pool active fraction" + tag).c_str());
    std::vector<float> mean2(rows);
    rc = diffrep_pool(x.data(), n, c, hw, mean2.data(), nullptr, nullptr, 0.5f, -1, nullptr);
    CHECK_TRUE(rc == 0 && same_bits(mean.data(), mean2.data(), rows), ("pool mean only, same bits" + tag).c_str());
    std::vector<float> act2(rows);
    rc = diffrep_pool(x.data(), n, c, hw, mean2.data(), nullptr, act2.data(), 0.5f, -1, nullptr);
    CHECK_TRUE(rc == 0 && same_bits(act.data(), act2.data(), rows), ("pool with max NULL" + tag).c_str());
  }
  // Thread count does not change the bits.
  auto x = rng.floats(37 * 11 * 49, -1, 1);
  std::vector<float> a(37 * 11), b(37 * 11);
  diffrep_set_num_threads(1);
  diffrep_pool(x.data(), 37, 11, 49, a.data(), nullptr, nullptr, 0, -1, nullptr);
  diffrep_set_num_threads(3);
  diffrep_pool(x.data(), 37, 11, 49, b.data(), nullptr, nullptr, 0, -1, nullptr);
  diffrep_set_num_threads(0);
  CHECK_TRUE(same_bits(a.data(), b.data(), a.size()), "pool independent of thread count");
}

static std::vector<float> topk_data(Rng& rng, int64_t n, int64_t c, int kind) {
  std::vector<float> x((size_t)(n * c));
  for (auto& v : x) {
    if (kind == 0) v = rng.uniform(-10, 10);
    else v = (float)((int)(rng.next() % 7) - 3);  // many ties, -3..3
  }
  if (kind == 2) {  // specials
    for (size_t t = 0; t < x.size(); t += 5) {
      const uint64_t r = rng.next() % 6;
      x[t] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY : r == 3 ? -0.0f : r == 4 ? 0.0f : -NAN;
    }
  }
  return x;
}

static bool topk_equal(const std::vector<float>& v, const std::vector<int64_t>& i, const std::vector<float>& rv,
                       const std::vector<int64_t>& ri) {
  return i == ri && same_bits(v.data(), rv.data(), v.size());
}

void test_topk() {
  Rng rng(3);
  const int64_t shapes[][2] = {{3, 1}, {4, 7}, {5, 64}, {3, 129}, {2, 512}, {2, 1000}, {2, 16384}};
  for (auto& sh : shapes) {
    const int64_t n = sh[0], c = sh[1];
    for (int kind = 0; kind < 3; ++kind) {
      auto x = topk_data(rng, n, c, kind);
      for (int64_t k : {(int64_t)1, (int64_t)2, (int64_t)8, (int64_t)64, (int64_t)128, (int64_t)129, c / 2, c}) {
        if (k < 1 || k > c) continue;
        for (int by = 0; by < 2; ++by) {
          std::vector<float> v((size_t)(n * k)), rv(v.size());
          std::vector<int64_t> i(v.size()), ri(v.size());
          int rc = diffrep_topk(x.data(), n, c, k, by, v.data(), i.data(), -1, nullptr);
          ref_topk(x.data(), n, c, k, by, rv.data(), ri.data());
          std::string what = "topk n=" + std::to_string(n) + " c=" + std::to_string(c) + " k=" + std::to_string(k) +
                             (by ? " magnitude" : " value") + (kind == 1 ? " ties" : kind == 2 ? " NaN/inf/-0" : "");
          CHECK_TRUE(rc == 0 && topk_equal(v, i, rv, ri), what.c_str());
        }
      }
    }
  }
}

void test_pool_topk() {
  Rng rng(4);
  const int64_t shapes[][4] = {{3, 5, 1, 2}, {4, 16, 9, 1}, {2, 128, 64, 8}, {3, 200, 16, 200}, {2, 512, 49, 32}};
  for (auto& sh : shapes) {
    const int64_t n = sh[0], c = sh[1], hw = sh[2], k = sh[3];
    auto x = rng.floats((size_t)(n * c * hw), -1, 1);
    std::vector<float> mean((size_t)(n * c)), pmean(mean.size()), v((size_t)(n * k)), rv(v.size());
    std::vector<int64_t> i(v.size()), ri(v.size());
    for (int by = 0; by < 2; ++by) {
      diffrep_pool(x.data(), n, c, hw, pmean.data(), nullptr, nullptr, 0, -1, nullptr);
      diffrep_topk(pmean.data(), n, c, k, by, rv.data(), ri.data(), -1, nullptr);
      int rc = diffrep_pool_topk(x.data(), n, c, hw, k, by, mean.data(), v.data(), i.data(), -1, nullptr);
      std::string tag = " n=" + std::to_string(n) + " c=" + std::to_string(c) + " hw=" + std::to_string(hw) +
                        " k=" + std::to_string(k) + (by ? " magnitude" : " value");
      CHECK_TRUE(rc == 0 && same_bits(mean.data(), pmean.data(), mean.size()) && topk_equal(v, i, rv, ri),
                 ("pool_topk equals pool then topk" + tag).c_str());
      std::fill(i.begin(), i.end(), -1);
      rc = diffrep_pool_topk(x.data(), n, c, hw, k, by, nullptr, v.data(), i.data(), -1, nullptr);
      CHECK_TRUE(rc == 0 && topk_equal(v, i, rv, ri), ("pool_topk with mean NULL" + tag).c_str());
    }
  }
}

static void expect_error(int rc, int code, const char* what) {
  const char* msg = diffrep_last_error();
  const bool ok = rc == code && msg && std::strlen(msg) > 10;
  CHECK_TRUE(ok, what);
  if (!ok) std::printf("  got rc=%d, message '%s'\n", rc, msg ? msg : "(null)");
}

void test_errors() {
  float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[64], sig[2] = {1, 2}, v[8], mean[8];
  int64_t idx[8];
  const int E = DIFFREP_EINVAL;
  expect_error(diffrep_noise_inject(x, -1, 4, sig, nullptr, 2, nullptr, 0, 0, out, -1, nullptr), E, "noise n < 0");
  expect_error(diffrep_noise_inject(x, 2, -4, sig, nullptr, 2, nullptr, 0, 0, out, -1, nullptr), E, "noise d < 0");
  expect_error(diffrep_noise_inject(x, 2, 4, sig, nullptr, -2, nullptr, 0, 0, out, -1, nullptr), E, "noise s < 0");
  expect_error(diffrep_noise_inject(nullptr, 2, 4, sig, nullptr, 2, nullptr, 0, 0, out, -1, nullptr), E, "noise x0 NULL");
  expect_error(diffrep_noise_inject(x, 2, 4, nullptr, nullptr, 2, nullptr, 0, 0, out, -1, nullptr), E, "noise sigmas NULL");
  expect_error(diffrep_noise_inject(x, 2, 4, sig, nullptr, 2, nullptr, 0, 0, nullptr, -1, nullptr), E, "noise out NULL");
  expect_error(diffrep_noise_inject(x, 2, 4, sig, nullptr, 2, nullptr, 0, 0, out, -7, nullptr), E, "noise device -7");
  expect_error(diffrep_pool(x, 2, 2, 0, mean, nullptr, nullptr, 0, -1, nullptr), E, "pool hw = 0");
  expect_error(diffrep_pool(x, -2, 2, 2, mean, nullptr, nullptr, 0, -1, nullptr), E, "pool n < 0");
  expect_error(diffrep_pool(nullptr, 2, 2, 2, mean, nullptr, nullptr, 0, -1, nullptr), E, "pool x NULL");
  expect_error(diffrep_pool(x, 2, 2, 2, nullptr, nullptr, nullptr, 0, -1, nullptr), E, "pool mean NULL");
  expect_error(diffrep_topk(x, 2, 4, 0, 0, v, idx, -1, nullptr), E, "topk k = 0");
  expect_error(diffrep_topk(x, 2, 4, 5, 0, v, idx, -1, nullptr), E, "topk k > c");
  expect_error(diffrep_topk(x, 2, 0, 1, 0, v, idx, -1, nullptr), E, "topk c = 0");
  expect_error(diffrep_topk(x, 2, 4, 2, 2, v, idx, -1, nullptr), E, "topk by = 2");
  expect_error(diffrep_topk(x, 2, 4, 2, 0, nullptr, idx, -1, nullptr), E, "topk values NULL");
  expect_error(diffrep_topk(x, 2, 4, 2, 0, v, nullptr, -1, nullptr), E, "topk indices NULL");
  expect_error(diffrep_topk(nullptr, 2, 4, 2, 0, v, idx, -1, nullptr), E, "topk x NULL");
  expect_error(diffrep_pool_topk(x, 2, 2, 0, 1, 0, mean, v, idx, -1, nullptr), E, "pool_topk hw = 0");
  expect_error(diffrep_pool_topk(x, 2, 2, 2, 3, 0, mean, v, idx, -1, nullptr), E, "pool_topk k > c");
  expect_error(diffrep_pool_topk(x, 2, 2, 2, 1, -1, mean, v, idx, -1, nullptr), E, "pool_topk by = -1");
  expect_error(diffrep_pool_topk(x, 2, 2, 2, 1, 0, mean, nullptr, idx, -1, nullptr), E, "pool_topk values NULL");
  if (diffrep_cuda_device_count() == 0)
    expect_error(diffrep_pool(x, 2, 2, 2, mean, nullptr, nullptr, 0, 0, nullptr), DIFFREP_ENOCUDA,
                 "pool on device 0 without a usable GPU is ENOCUDA");
  // Size 0 is valid and does nothing.
  CHECK_TRUE(diffrep_noise_inject(nullptr, 0, 4, nullptr, nullptr, 2, nullptr, 0, 0, nullptr, -1, nullptr) == 0,
             "noise with n = 0 is a no-op");
  CHECK_TRUE(diffrep_topk(nullptr, 0, 4, 2, 0, nullptr, nullptr, -1, nullptr) == 0, "topk with n = 0 is a no-op");
  CHECK_TRUE(diffrep_pool(x, 2, 2, 2, mean, nullptr, nullptr, 0, -1, nullptr) == 0 && diffrep_last_error()[0] == 0,
             "success clears the last error");
}

}  // namespace dtest
