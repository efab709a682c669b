// Native tests: every CPU kernel against plain reference loops on random data, noise statistics,
// argument errors, and (when a GPU is usable) CUDA against CPU. Ends with "N passed, M failed".
//   diffrep_ops_test              run the tests
//   diffrep_ops_test --bench [T]  time the CPU kernels with T threads (default 2)
//   diffrep_ops_test --bench-isa [T] [R]  the kernels on each ISA this CPU runs, interleaved, median
//                                 of R runs (default 15), and a streaming read (memory bandwidth)
//   diffrep_ops_test --bench-cuda time the CUDA kernels (device 0) against a device-to-device copy
#include "diffrep_ops.h"
#include "philox.h"
#include "test_util.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--bench") == 0)
    return dtest::bench_cpu(argc >= 3 ? std::atoi(argv[2]) : 2);
  if (argc >= 2 && std::strcmp(argv[1], "--bench-isa") == 0)
    return dtest::bench_isa(argc >= 3 ? std::atoi(argv[2]) : 2, argc >= 4 ? std::atoi(argv[3]) : 15);
  if (argc >= 2 && std::strcmp(argv[1], "--bench-cuda") == 0) return dtest::bench_cuda();
  if (argc >= 2) {
    std::fprintf(stderr, "usage: %s [--bench [THREADS] | --bench-isa [THREADS] [REPS] | --bench-cuda]\n", argv[0]);
    return 2;
  }
  std::printf("diffrep native tests: ABI %d, %s\n", diffrep_abi_version(), diffrep_cuda_status());
  dtest::test_abi();
  dtest::test_noise();
  dtest::test_noise_statistics();
  dtest::test_pool();
  dtest::test_topk();
  dtest::test_pool_topk();
  dtest::test_errors();
  dtest::test_isa();
  dtest::test_ext();
  dtest::test_cuda();
  std::printf("%d passed, %d failed\n", dtest::passed, dtest::failed);
  return dtest::failed ? 1 : 0;
}
