// A user reduction in a shared library (docs/KERNELS.md): the root mean square of each channel
// over its spatial positions, [B, C, H, W] -> [B, C]. CPU only; a CUDA-capable library would
// launch on `stream` when device >= 0.
//
//   g++ -O2 -std=c++17 -shared -fPIC examples/kernels/channel_rms.cpp -o libchannel_rms.so
//   diffrep extract ... --kernel-file rms=libchannel_rms.so --reduce mid=rms
#include <cmath>
#include <cstdint>
#include <cstdio>

extern "C" {

// F for a map [C, H, W] (ndim 3) or [C] (ndim 1): one value per channel.
int64_t diffrep_reduction_rows(const int64_t* map_shape, int32_t ndim) {
  return ndim >= 1 ? map_shape[0] : -1;
}

int diffrep_reduction(const float* x, const int64_t* shape, const int64_t* strides, int32_t ndim, float* out,
                      int64_t f, int32_t device, void* stream, char* error, int64_t error_size) {
  (void)stream;
  if (device != -1) {
    std::snprintf(error, (size_t)error_size, "channel_rms runs on the CPU only, got device %d", device);
    return 1;
  }
  if (ndim != 4 && ndim != 2) {
    std::snprintf(error, (size_t)error_size, "expected [B, C, H, W] or [B, C], got %d dimensions", ndim);
    return 1;
  }
  const int64_t b = shape[0], c = shape[1];
  const int64_t h = ndim == 4 ? shape[2] : 1, w = ndim == 4 ? shape[3] : 1;
  const int64_t sh = ndim == 4 ? strides[2] : 0, sw = ndim == 4 ? strides[3] : 0;
  if (f != c) {
    std::snprintf(error, (size_t)error_size, "f=%lld but the map has %lld channels", (long long)f, (long long)c);
    return 1;
  }
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < c; ++j) {
      const float* m = x + i * strides[0] + j * strides[1];
      double sum = 0;
      for (int64_t y = 0; y < h; ++y)
        for (int64_t z = 0; z < w; ++z) {
          const double v = m[y * sh + z * sw];
          sum += v * v;
        }
      out[i * f + j] = (float)std::sqrt(sum / (double)(h * w));
    }
  }
  return 0;
}

}  // extern "C"
