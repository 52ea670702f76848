// ASSERT and DEBUG_ASSERT: the project's assertions.
//
// ASSERT is always on, in every build: a failed assertion means the program's own invariants
// are broken, and continuing could corrupt data on disk or on the wire, so it prints where and
// aborts. Use it densely where bytes meet disk or wire. DEBUG_ASSERT compiles away with NDEBUG;
// keep it for measured hot loops only. Any thread may use both.
#pragma once

namespace cairn::detail {
[[noreturn]] void assert_fail(const char* expression, const char* file, int line,
                              const char* function);
}  // namespace cairn::detail

#define ASSERT(cond)                                                                  \
  do {                                                                                \
    if (__builtin_expect(!(cond), 0)) {                                               \
      ::cairn::detail::assert_fail(#cond, __FILE__, __LINE__, __PRETTY_FUNCTION__);   \
    }                                                                                 \
  } while (0)

#ifdef NDEBUG
#define DEBUG_ASSERT(cond) \
  do {                     \
    (void)sizeof(cond);    \
  } while (0)
#else
#define DEBUG_ASSERT(cond) ASSERT(cond)
#endif
