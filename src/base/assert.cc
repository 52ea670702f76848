#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace cairn::detail {

void assert_fail(const char* expression, const char* file, int line, const char* function) {
  std::fprintf(stderr, "ASSERT failed: %s\n  at %s:%d in %s\n", expression, file, line, function);
  std::fflush(stderr);
  std::abort();
}

}  // namespace cairn::detail
