// A user reduction as CUDA source (docs/KERNELS.md): the spatial maximum of each channel,
// [B, C, H, W] -> [B, C]. diffrep compiles it at run time with NVRTC for the GPU it runs on and
// launches it on LibTorch's current stream: blocks of 256 threads, grid (ceil(f / 256), rows);
// blockIdx.y is the row, the thread's x index the output column.
//
//   diffrep extract ... --kernel-file examples/kernels/channel_max.cu --reduce mid=channel_max
//
// diffrep-reduction: rows=C kernel=channel_max

extern "C" __global__ void channel_max(const float* x, float* out, long long b, long long c, long long h,
                                       long long w, long long sb, long long sc, long long sh, long long sw,
                                       long long f) {
  const long long row = blockIdx.y;
  const long long col = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= b || col >= f) return;
  const float* m = x + row * sb + col * sc;
  float best = -__int_as_float(0x7f800000);  // -inf
  for (long long i = 0; i < h; ++i) {
    for (long long j = 0; j < w; ++j) {
      const float v = m[i * sh + j * sw];
      best = (v > best || v != v) ? v : best;  // NaN propagates
    }
  }
  out[row * f + col] = best;
}
