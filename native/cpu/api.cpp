// The C ABI: argument checks, error messages, thread setting and CPU/CUDA dispatch.
#include "diffrep_ops.h"
#include "backend.h"

#include <omp.h>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <dlfcn.h>
#include <map>
#include <mutex>
#include <string>

namespace {

thread_local std::string last_error;
std::atomic<int> num_threads{0};

int fail(int code, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  last_error = buf;
  return code;
}

int ok() {
  last_error.clear();
  return DIFFREP_OK;
}

#define CHECK(cond, ...) \
  do { if (!(cond)) return fail(DIFFREP_EINVAL, __VA_ARGS__); } while (0)

int check_device(const char* fn, int device) {
  if (device == DIFFREP_DEVICE_CPU) return DIFFREP_OK;
  if (device < -1) return fail(DIFFREP_EINVAL, "%s: device must be -1 (CPU) or a CUDA ordinal, got %d", fn, device);
#ifdef DIFFREP_WITH_CUDA
  const char* why = nullptr;
  int count = diffrep::cuda_device_count(&why);
  if (device >= count)
    return fail(DIFFREP_ENOCUDA, "%s: CUDA device %d asked for, %d usable (%s)", fn, device, count, why ? why : "");
  return DIFFREP_OK;
#else
  return fail(DIFFREP_ENOCUDA, "%s: CUDA device %d asked for, but this library was built without CUDA", fn, device);
#endif
}

#ifdef DIFFREP_WITH_CUDA
int cuda_result(const char* fn, int err, const char* msg) {
  if (err == 0) return ok();
  return fail(DIFFREP_ECUDA, "%s: CUDA error %d: %s", fn, err, msg ? msg : "unknown");
}
#endif

int check_topk(const char* fn, int64_t c, int64_t k, int by) {
  CHECK(c <= (int64_t)0xffffffff, "%s: c=%lld exceeds 2^32 - 1 (indices are ranked as 32-bit)", fn, (long long)c);
  CHECK(k >= 1 && k <= c, "%s: k must be in [1, c=%lld], got %lld", fn, (long long)c, (long long)k);
  CHECK(by == DIFFREP_TOPK_VALUE || by == DIFFREP_TOPK_MAGNITUDE,
        "%s: by must be 0 (value) or 1 (magnitude), got %d", fn, by);
  return DIFFREP_OK;
}

}  // namespace

namespace diffrep {
int cpu_threads() {
  int n = num_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_num_procs();
}
}  // namespace diffrep

extern "C" {

int diffrep_abi_version(void) { return DIFFREP_ABI_VERSION; }

int diffrep_cuda_compiled(void) {
#ifdef DIFFREP_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

int diffrep_cuda_device_count(void) {
#ifdef DIFFREP_WITH_CUDA
  const char* why = nullptr;
  return diffrep::cuda_device_count(&why);
#else
  return 0;
#endif
}

const char* diffrep_cuda_status(void) {
  static thread_local std::string status;
#ifdef DIFFREP_WITH_CUDA
  const char* why = nullptr;
  int count = diffrep::cuda_device_count(&why);
  status = "CUDA compiled in; " + std::to_string(count) + " usable device(s)";
  if (why && *why) status += std::string(" (") + why + ")";
#else
  status = "CUDA not compiled in (CPU kernels only)";
#endif
  return status.c_str();
}

void diffrep_set_num_threads(int n) { num_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }

int diffrep_get_num_threads(void) { return diffrep::cpu_threads(); }

const char* diffrep_last_error(void) { return last_error.c_str(); }

const char* diffrep_cpu_isa(void) { return diffrep::cpu_isa(); }

const char* diffrep_cpu_isa_status(void) {
  static thread_local std::string status;
  status = diffrep::cpu_isa_status();
  return status.c_str();
}

int diffrep_set_cpu_isa(const char* isa) {
  std::string why;
  if (diffrep::cpu_set_isa(isa, &why)) return fail(DIFFREP_EINVAL, "diffrep_set_cpu_isa: %s", why.c_str());
  return ok();
}

int diffrep_noise_inject(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales,
                         int64_t s, const int64_t* ids, uint64_t seed, int clean, float* out, int device,
                         void* stream) {
  const char* fn = "diffrep_noise_inject";
  CHECK(n >= 0 && d >= 0 && s >= 0, "%s: sizes must be >= 0 (n=%lld, d=%lld, s=%lld)", fn, (long long)n,
        (long long)d, (long long)s);
  CHECK(d <= ((int64_t)1 << 34), "%s: d=%lld exceeds 2^34 elements per sample", fn, (long long)d);
  if (n == 0 || d == 0 || s == 0) return ok();
  CHECK(x0 && sigmas && out, "%s: x0, sigmas and out must not be NULL", fn);
  int rc = check_device(fn, device);
  if (rc) return rc;
#ifdef DIFFREP_WITH_CUDA
  if (device >= 0) {
    const char* msg = nullptr;
    int err = diffrep::cuda_noise_inject(x0, n, d, sigmas, scales, s, ids, seed, clean, out, device, stream, &msg);
    return cuda_result(fn, err, msg);
  }
#endif
  (void)stream;
  diffrep::cpu_noise_inject(x0, n, d, sigmas, scales, s, ids, seed, clean, out);
  return ok();
}

int diffrep_pool(const float* x, int64_t n, int64_t c, int64_t hw, float* mean, float* max, float* active,
                 float threshold, int device, void* stream) {
  const char* fn = "diffrep_pool";
  CHECK(n >= 0 && c >= 0, "%s: sizes must be >= 0 (n=%lld, c=%lld)", fn, (long long)n, (long long)c);
  CHECK(hw >= 1, "%s: hw must be >= 1, got %lld", fn, (long long)hw);
  if (n == 0 || c == 0) return ok();
  CHECK(x && mean, "%s: x and mean must not be NULL", fn);
  int rc = check_device(fn, device);
  if (rc) return rc;
#ifdef DIFFREP_WITH_CUDA
  if (device >= 0) {
    const char* msg = nullptr;
    int err = diffrep::cuda_pool(x, n, c, hw, mean, max, active, threshold, device, stream, &msg);
    return cuda_result(fn, err, msg);
  }
#endif
  (void)stream;
  diffrep::cpu_pool(x, n, c, hw, mean, max, active, threshold);
  return ok();
}

int diffrep_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices,
                 int device, void* stream) {
  const char* fn = "diffrep_topk";
  CHECK(n >= 0 && c >= 1, "%s: need n >= 0 and c >= 1 (n=%lld, c=%lld)", fn, (long long)n, (long long)c);
  int rc = check_topk(fn, c, k, by);
  if (rc) return rc;
  if (n == 0) return ok();
  CHECK(x && values && indices, "%s: x, values and indices must not be NULL", fn);
  rc = check_device(fn, device);
  if (rc) return rc;
#ifdef DIFFREP_WITH_CUDA
  if (device >= 0) {
    const char* msg = nullptr;
    int err = diffrep::cuda_topk(x, n, c, k, by, values, indices, device, stream, &msg);
    return cuda_result(fn, err, msg);
  }
#endif
  (void)stream;
  diffrep::cpu_topk(x, n, c, k, by, values, indices);
  return ok();
}

int diffrep_pool_topk(const float* x, int64_t n, int64_t c, int64_t hw, int64_t k, int by, float* mean,
                      float* values, int64_t* indices, int device, void* stream) {
  const char* fn = "diffrep_pool_topk";
  CHECK(n >= 0 && c >= 1, "%s: need n >= 0 and c >= 1 (n=%lld, c=%lld)", fn, (long long)n, (long long)c);
  CHECK(hw >= 1, "%s: hw must be >= 1, got %lld", fn, (long long)hw);
  int rc = check_topk(fn, c, k, by);
  if (rc) return rc;
  if (n == 0) return ok();
  CHECK(x && values && indices, "%s: x, values and indices must not be NULL", fn);
  rc = check_device(fn, device);
  if (rc) return rc;
#ifdef DIFFREP_WITH_CUDA
  if (device >= 0) {
    const char* msg = nullptr;
    int err = diffrep::cuda_pool_topk(x, n, c, hw, k, by, mean, values, indices, device, stream, &msg);
    return cuda_result(fn, err, msg);
  }
#endif
  (void)stream;
  diffrep::cpu_pool_topk(x, n, c, hw, k, by, mean, values, indices);
  return ok();
}

}  // extern "C"

namespace {

// One handle per library path, opened once; RTLD_LOCAL so that users' symbols never clash.
int ext_symbol(const char* fn, const char* library, const char* symbol, void** out) {
  static std::mutex lock;
  static std::map<std::string, void*> handles;
  CHECK(library && *library, "%s: library must be a path, got %s", fn, library ? "\"\"" : "NULL");
  CHECK(symbol && *symbol, "%s: symbol must be a name, got %s", fn, symbol ? "\"\"" : "NULL");
  void* handle = nullptr;
  {
    std::lock_guard<std::mutex> guard(lock);
    auto it = handles.find(library);
    if (it != handles.end()) {
      handle = it->second;
    } else {
      handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char* why = dlerror();
        return fail(DIFFREP_ENOLIB, "cannot load the library %s: %s", library, why ? why : "unknown error");
      }
      handles[library] = handle;
    }
  }
  dlerror();
  void* sym = dlsym(handle, symbol);
  if (!sym) return fail(DIFFREP_ENOLIB, "the library %s has no function %s (export it with extern \"C\")", library, symbol);
  *out = sym;
  return DIFFREP_OK;
}

}  // namespace

extern "C" {

int diffrep_ext_rows(const char* library, const char* symbol, const int64_t* map_shape, int32_t ndim,
                     int64_t* rows) {
  const char* fn = "diffrep_ext_rows";
  CHECK(map_shape && rows, "%s: map_shape and rows must not be NULL", fn);
  CHECK(ndim >= 1 && ndim <= 8, "%s: ndim must be in [1, 8], got %d", fn, ndim);
  for (int i = 0; i < ndim; ++i) CHECK(map_shape[i] >= 1, "%s: map_shape[%d] must be >= 1", fn, i);
  std::string rows_symbol = std::string(symbol ? symbol : "") + "_rows";
  void* sym = nullptr;
  int rc = ext_symbol(fn, library, symbol && *symbol ? rows_symbol.c_str() : symbol, &sym);
  if (rc) return rc;
  int64_t f = reinterpret_cast<diffrep_reduction_rows_fn>(sym)(map_shape, ndim);
  if (f < 1) return fail(DIFFREP_EUSER, "%s in %s refuses a map of this shape (returned %lld)", rows_symbol.c_str(),
                         library, (long long)f);
  *rows = f;
  return ok();
}

int diffrep_ext_reduce(const char* library, const char* symbol, const float* x, const int64_t* shape,
                       const int64_t* strides, int32_t ndim, float* out, int64_t f, int device, void* stream) {
  const char* fn = "diffrep_ext_reduce";
  CHECK(shape && strides, "%s: shape and strides must not be NULL", fn);
  CHECK(ndim >= 2 && ndim <= 8, "%s: ndim must be in [2, 8], got %d", fn, ndim);
  CHECK(f >= 1, "%s: f must be >= 1, got %lld", fn, (long long)f);
  for (int i = 0; i < ndim; ++i) {
    CHECK(shape[i] >= 0, "%s: shape[%d] must be >= 0", fn, i);
    CHECK(strides[i] >= 0, "%s: strides[%d] must be >= 0", fn, i);
  }
  void* sym = nullptr;
  int rc = ext_symbol(fn, library, symbol, &sym);
  if (rc) return rc;
  if (shape[0] == 0) return ok();
  CHECK(x && out, "%s: x and out must not be NULL", fn);
  rc = check_device(fn, device);
  if (rc) return rc;
  char message[512] = {0};
  int code = reinterpret_cast<diffrep_reduction_fn>(sym)(x, shape, strides, ndim, out, f, device, stream, message,
                                                         (int64_t)sizeof message);
  if (code != 0) {
    message[sizeof message - 1] = 0;
    return fail(DIFFREP_EUSER, "%s in %s returned %d: %s", symbol, library, code,
                message[0] ? message : "(no message)");
  }
  return ok();
}

}  // extern "C"
