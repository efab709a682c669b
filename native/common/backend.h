// Internal interface between the C ABI (native/cpu/api.cpp, which validates arguments and
// dispatches) and the CPU and CUDA implementations. Arguments are already checked here.
#ifndef DIFFREP_BACKEND_H
#define DIFFREP_BACKEND_H

#include <stdint.h>

#include <string>

namespace diffrep {

int cpu_threads();

// The instruction set the CPU kernels run with ("avx512", "avx2" or "portable"), a line saying why,
// and a switch for measurement and tests (name NULL or "auto": the best; 0, or 1 with *why set).
const char* cpu_isa();
std::string cpu_isa_status();
int cpu_set_isa(const char* name, std::string* why);

void cpu_noise_inject(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales,
                      int64_t s, const int64_t* ids, uint64_t seed, int clean, float* out);
void cpu_pool(const float* x, int64_t n, int64_t c, int64_t hw, float* mean, float* max, float* active,
              float threshold);
void cpu_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices);
void cpu_pool_topk(const float* x, int64_t n, int64_t c, int64_t hw, int64_t k, int by, float* mean,
                   float* values, int64_t* indices);

#ifdef DIFFREP_WITH_CUDA
// Each returns 0 or a cudaError_t value; `msg` gets the runtime's message on failure.
int cuda_device_count(const char** why);
int cuda_noise_inject(const float* x0, int64_t n, int64_t d, const float* sigmas, const float* scales,
                      int64_t s, const int64_t* ids, uint64_t seed, int clean, float* out, int device,
                      void* stream, const char** msg);
int cuda_pool(const float* x, int64_t n, int64_t c, int64_t hw, float* mean, float* max, float* active,
              float threshold, int device, void* stream, const char** msg);
int cuda_topk(const float* x, int64_t n, int64_t c, int64_t k, int by, float* values, int64_t* indices,
              int device, void* stream, const char** msg);
int cuda_pool_topk(const float* x, int64_t n, int64_t c, int64_t hw, int64_t k, int by, float* mean,
                   float* values, int64_t* indices, int device, void* stream, const char** msg);
#endif

}  // namespace diffrep

#endif
