// User reductions in a shared library: diffrep_ext_rows / diffrep_ext_reduce with the example
// library examples/kernels/channel_rms.cpp (cppbuild.sh builds it beside this test program),
// against a plain loop; then every error path (missing library, missing symbol, bad arguments, an
// error from the user's function) returns a code and a message, never a crash.
#include "test_util.h"

#include <cmath>
#include <cstring>
#include <string>
#include <unistd.h>

namespace dtest {

static std::string beside_this_program(const char* file) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return file;
  buf[n] = 0;
  std::string dir(buf);
  return dir.substr(0, dir.rfind('/') + 1) + file;
}

void test_ext() {
  const std::string lib = beside_this_program("libchannel_rms.so");
  const char* sym = "diffrep_reduction";
  const int64_t b = 3, c = 5, h = 4, w = 6;
  Rng rng(21);
  std::vector<float> x = rng.floats((size_t)(b * c * h * w), -2.f, 2.f);
  const int64_t map[3] = {c, h, w};
  int64_t rows = 0;
  CHECK_TRUE(diffrep_ext_rows(lib.c_str(), sym, map, 3, &rows) == DIFFREP_OK && rows == c, "ext rows = C");
  const int64_t shape[4] = {b, c, h, w}, strides[4] = {c * h * w, h * w, w, 1};
  std::vector<float> out((size_t)(b * c), -1.f);
  int rc = diffrep_ext_reduce(lib.c_str(), sym, x.data(), shape, strides, 4, out.data(), c, DIFFREP_DEVICE_CPU, nullptr);
  CHECK_TRUE(rc == DIFFREP_OK, "ext reduce runs");
  bool same = true;
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < c; ++j) {
      double s = 0;
      for (int64_t p = 0; p < h * w; ++p) {
        double v = x[(size_t)((i * c + j) * h * w + p)];
        s += v * v;
      }
      same = same && std::fabs(out[(size_t)(i * c + j)] - (float)std::sqrt(s / (double)(h * w))) <= 1e-6f;
    }
  CHECK_TRUE(same, "ext reduce matches the reference loop");

  // Errors: a code and a message naming what is missing.
  rc = diffrep_ext_reduce("/nonexistent/libnothing.so", sym, x.data(), shape, strides, 4, out.data(), c, -1, nullptr);
  CHECK_TRUE(rc == DIFFREP_ENOLIB && std::strstr(diffrep_last_error(), "/nonexistent/libnothing.so"),
             "missing library -> ENOLIB naming it");
  rc = diffrep_ext_reduce(lib.c_str(), "no_such_fn", x.data(), shape, strides, 4, out.data(), c, -1, nullptr);
  CHECK_TRUE(rc == DIFFREP_ENOLIB && std::strstr(diffrep_last_error(), "no_such_fn"), "missing symbol -> ENOLIB");
  rc = diffrep_ext_rows(lib.c_str(), "no_such_fn", map, 3, &rows);
  CHECK_TRUE(rc == DIFFREP_ENOLIB && std::strstr(diffrep_last_error(), "no_such_fn_rows"), "missing _rows -> ENOLIB");
  CHECK_TRUE(diffrep_ext_reduce(nullptr, sym, x.data(), shape, strides, 4, out.data(), c, -1, nullptr) == DIFFREP_EINVAL,
             "NULL library -> EINVAL");
  CHECK_TRUE(diffrep_ext_reduce(lib.c_str(), sym, nullptr, shape, strides, 4, out.data(), c, -1, nullptr) == DIFFREP_EINVAL,
             "NULL x -> EINVAL");
  CHECK_TRUE(diffrep_ext_reduce(lib.c_str(), sym, x.data(), nullptr, strides, 4, out.data(), c, -1, nullptr) == DIFFREP_EINVAL,
             "NULL shape -> EINVAL");
  CHECK_TRUE(diffrep_ext_reduce(lib.c_str(), sym, x.data(), shape, strides, 4, out.data(), 0, -1, nullptr) == DIFFREP_EINVAL,
             "f = 0 -> EINVAL");
  rc = diffrep_ext_reduce(lib.c_str(), sym, x.data(), shape, strides, 4, out.data(), c + 1, -1, nullptr);
  CHECK_TRUE(rc == DIFFREP_EUSER && std::strstr(diffrep_last_error(), "channels"), "user error -> EUSER with its message");
  CHECK_TRUE(diffrep_ext_rows(lib.c_str(), sym, map, 0, &rows) == DIFFREP_EINVAL, "ndim 0 -> EINVAL");
}

}  // namespace dtest
