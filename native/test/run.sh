#!/usr/bin/env bash
# Runs the native tests that cppbuild.sh built (CPU against reference loops; CUDA against CPU
# when a GPU is usable). Maven runs this in the test phase.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/native/linux-x86_64/bin/diffrep_ops_test
if [ ! -x "$bin" ]; then
  echo "native/test/run.sh: $bin is missing; run ./cppbuild.sh first" >&2
  exit 1
fi
exec "$bin" "$@"
