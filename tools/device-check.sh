#!/usr/bin/env bash
# GPU machine check (nvcc and a GPU, no Java needed): builds native/ with CUDA for sm_90, runs the
# native tests (the CUDA kernels against the CPU ones, bitwise), then times each CUDA kernel
# (CUDA events, a warm-up, median of 20) in GB/s next to a device-to-device cudaMemcpy moving the
# same bytes; then (with Java and Maven) a user CUDA reduction against the CPU reference. Prints the test
# summary and the table; exits non-zero when a step fails.
#
#   tools/device-check.sh [--archs "90"]    (CUDA_ARCHS as in cppbuild.sh; default 90)
set -euo pipefail
cd "$(dirname "$0")/.."

archs=90
while [ $# -gt 0 ]; do
  case "$1" in
    --archs) archs=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "device-check.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

command -v nvcc >/dev/null || { echo "device-check.sh: nvcc is not on the PATH" >&2; exit 2; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

echo "== build (CUDA_ARCHS=$archs)"
start=$(date +%s)
CUDA_ARCHS="$archs" ./cppbuild.sh --cuda
echo "build took $(( $(date +%s) - start )) s"

bin=target/native/linux-x86_64/bin/diffrep_ops_test
echo "== native tests (CPU against reference loops, CUDA against CPU)"
"$bin" | tee /tmp/diffrep-native-tests.txt | grep -v "^  " || true
tail -1 /tmp/diffrep-native-tests.txt | grep -q " 0 failed$" || { echo "device-check.sh: native tests failed" >&2; exit 1; }
grep -q "skipped (no GPU)" /tmp/diffrep-native-tests.txt && { echo "device-check.sh: no usable GPU" >&2; exit 1; }

echo "== CUDA kernel timings"
"$bin" --bench-cuda
echo "== CPU kernel timings ($(nproc) threads)"
"$bin" --bench "$(nproc)"

# User CUDA reductions (docs/KERNELS.md): examples/kernels/channel_max.cu compiled with NVRTC and launched
# by CudaSourceKernel on LibTorch's stream, against the CPU reference (torch.amax), bitwise. Needs Java, Maven
# and the gpu profile's jars in the local repository (-o); skipped, saying so, where they are not.
echo "== user CUDA reduction (NVRTC) against the CPU reference"
if command -v mvn >/dev/null && command -v java >/dev/null; then
  mvn -B -q -o -Pgpu test -Dtest=CudaReductionDeviceTest -Ddiffrep.requireGpu=true -DskipNativeTests=true \
    -DskipAvx2Tests=true -Dsurefire.failIfNoSpecifiedTests=false \
    || { echo "device-check.sh: the CUDA reduction differs from the CPU reference (or could not run)" >&2; exit 1; }
  echo "CudaReductionDeviceTest passed"
else
  echo "skipped: no java/mvn on this machine"
fi
