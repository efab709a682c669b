#!/usr/bin/env bash
# Runs the native tests that cppbuild.sh built (CPU against reference loops; CUDA against CPU
# when a GPU is usable). Maven runs this in the test phase. Without arguments the suite runs three
# times: on the best path this CPU has, then with DIFFREP_CPU_ISA=avx2 and =portable, so each
# forced path is chosen at load and checked against the references (the best path against the
# others, bit for bit, runs inside every pass: test_isa.cpp).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/native/linux-x86_64/bin/diffrep_ops_test
if [ ! -x "$bin" ]; then
  echo "native/test/run.sh: $bin is missing; run ./cppbuild.sh first" >&2
  exit 1
fi
if [ $# -gt 0 ]; then
  exec "$bin" "$@"
fi
"$bin"
for isa in avx2 portable; do
  echo "--- DIFFREP_CPU_ISA=$isa"
  DIFFREP_CPU_ISA=$isa "$bin"
done
