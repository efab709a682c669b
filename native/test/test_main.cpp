// Placeholder runner replaced by the native test suite.
#include "diffrep_ops.h"
#include <cstdio>
int main() {
  int failed = diffrep_abi_version() == DIFFREP_ABI_VERSION ? 0 : 1;
  std::printf("%d passed, %d failed\n", 1 - failed, failed);
  return failed;
}
