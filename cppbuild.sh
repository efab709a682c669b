#!/usr/bin/env bash
# Builds native/ into target/native/<platform>/{include,lib,bin}: one shared library,
# libdiffrep_ops.so, with the CPU kernels always and the CUDA kernels when nvcc is on the PATH,
# plus the native test program. Maven runs this before the JavaCPP plugin compiles the JNI glue;
# a person can run it by hand. Rebuilds only when a source or a flag changed.
#
#   ./cppbuild.sh [--cuda | --no-cuda] [--quiet] [--clean]      (env: CXX, CUDA_HOME, CUDA_ARCHS)
set -euo pipefail
cd "$(dirname "$0")"

platform=linux-x86_64
cuda=auto
quiet=0
for arg in "$@"; do
  case "$arg" in
    --cuda) cuda=1 ;;
    --no-cuda) cuda=0 ;;
    --quiet) quiet=1 ;;
    --clean) rm -rf "target/native/$platform" ;;
    "") ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "cppbuild.sh: unknown option '$arg' (expected --cuda, --no-cuda, --quiet, --clean)" >&2; exit 2 ;;
  esac
done

nvcc_bin=$(command -v nvcc || true)
if [ "$cuda" = auto ]; then
  if [ -n "$nvcc_bin" ] && ls native/cuda/*.cu >/dev/null 2>&1; then cuda=1; else cuda=0; fi
elif [ "$cuda" = 1 ] && [ -z "$nvcc_bin" ]; then
  echo "cppbuild.sh: --cuda given but nvcc is not on the PATH" >&2; exit 2
fi

out="target/native/$platform"
obj="$out/obj"
mkdir -p "$out/include" "$out/lib" "$out/bin" "$obj"
cp native/include/*.h "$out/include/"

cxx=${CXX:-g++}
# -ffp-contract=off: the shared noise math must round the same way on CPU and GPU.
cxxflags="-O3 -std=c++17 -fPIC -fopenmp -ffp-contract=off -fno-math-errno -Wall -Wextra -Inative/include -Inative/common"
# CUDA_ARCHS: the SM versions to build for (default "80 90"); PTX of the last one is embedded too,
# so newer GPUs JIT it.
cuda_archs=${CUDA_ARCHS:-80 90}
nvccflags="-O3 -std=c++17 -Xcompiler -fPIC -fmad=false -Inative/include -Inative/common"
for a in $cuda_archs; do nvccflags="$nvccflags -gencode arch=compute_$a,code=sm_$a"; done
nvccflags="$nvccflags -gencode arch=compute_${cuda_archs##* },code=compute_${cuda_archs##* }"
ldflags="-fopenmp -ldl"
[ "$cuda" = 1 ] && cxxflags="$cxxflags -DDIFFREP_WITH_CUDA"

sources=$(ls native/include/*.h native/common/*.h native/cpu/*.cpp native/cpu/*.h native/test/*.cpp native/test/*.h \
  native/cuda/*.cu native/cuda/*.cuh examples/kernels/*.cpp 2>/dev/null || true)
stamp=$( (echo "$cxx $cxxflags cuda=$cuda $nvccflags"; cat $sources) | sha256sum | cut -d' ' -f1)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] && [ -f "$out/lib/libdiffrep_ops.so" ]; then
  [ "$quiet" = 1 ] || echo "cppbuild.sh: $out is up to date"
  exit 0
fi
rm -f "$out/.stamp"

say() { [ "$quiet" = 1 ] || echo "$@"; }
objs=()
for src in native/cpu/*.cpp; do
  o="$obj/$(basename "${src%.cpp}").o"
  say "c++   $src"
  $cxx $cxxflags -c "$src" -o "$o"
  objs+=("$o")
done
if [ "$cuda" = 1 ]; then
  # nvcc may be a wrapper script; nvcc itself knows where its toolkit is (TOP in --dryrun).
  cuda_home=${CUDA_HOME:-$(cd /tmp && "$nvcc_bin" --dryrun -c -x cu /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | head -1)}
  cuda_home=$(readlink -f "${cuda_home:-$(dirname "$(dirname "$(readlink -f "$nvcc_bin")")")}")
  for src in native/cuda/*.cu; do
    o="$obj/$(basename "${src%.cu}").o"
    say "nvcc  $src"
    "$nvcc_bin" $nvccflags -c "$src" -o "$o"
    objs+=("$o")
  done
  # The CUDA runtime is linked statically, so the library loads on machines without CUDA;
  # it then reports no device and the CPU kernels run.
  ldflags="$ldflags -L$cuda_home/lib64 -L$cuda_home/lib64/stubs -lcudart_static -lpthread -ldl -lrt"
fi
say "link  $out/lib/libdiffrep_ops.so (cuda=$cuda)"
$cxx -shared -o "$out/lib/libdiffrep_ops.so" "${objs[@]}" $ldflags -Wl,-soname,libdiffrep_ops.so -Wl,--no-undefined

if ls native/test/*.cpp >/dev/null 2>&1; then
  # With CUDA the tests allocate device memory themselves (their own static runtime, the same
  # primary context as the library's), so they see the runtime's headers and library too.
  test_cuda_flags=()
  [ "$cuda" = 1 ] && test_cuda_flags=(-I"$cuda_home/include" -L"$cuda_home/lib64" -lcudart_static -lpthread -ldl -lrt)
  # The example shared-library reduction (examples/kernels), which the native tests dlopen.
  say "c++   examples/kernels/channel_rms.cpp -> $out/bin/libchannel_rms.so"
  $cxx -O2 -std=c++17 -shared -fPIC examples/kernels/channel_rms.cpp -o "$out/bin/libchannel_rms.so"
  say "c++   native/test -> $out/bin/diffrep_ops_test"
  $cxx $cxxflags native/test/*.cpp -o "$out/bin/diffrep_ops_test" -L"$out/lib" -ldiffrep_ops \
    -Wl,-rpath,'$ORIGIN/../lib' -fopenmp "${test_cuda_flags[@]}"
fi
echo "$stamp" > "$out/.stamp"
say "cppbuild.sh: built $out (cuda=$cuda)"
