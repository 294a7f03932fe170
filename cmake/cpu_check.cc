// Compiled into every bnmlp executable (the bnmlp_tsan_defaults object
// library): before any of our code runs, checks that the CPU has the
// instruction-set extensions this build was compiled for (BNMLP_MARCH, see
// cmake/TargetArch.cmake). On a CPU without them the binary would die with
// SIGILL somewhere, with no message; instead it says what is missing and how
// to build for that CPU, and exits 1 (a fatal error).
//
// The check runs before the CPU is known to run this build's code, so its
// functions are compiled for the x86-64 baseline (target("arch=x86-64"))
// and use only compiler builtins and write(2): no inline library code
// compiled for BNMLP_MARCH. A constructor of priority 101 runs before the
// executable's C++ static initializers (priority 65535) and after those of
// the shared libraries, which Debian compiles for the baseline.
#include <errno.h>  // program_invocation_short_name
#include <unistd.h>

#include <cstddef>

#ifndef BNMLP_MARCH_NAME
#error "BNMLP_MARCH_NAME must name the -march value (CMakeLists.txt sets it)"
#endif

namespace {

#define BNMLP_BASELINE_CODE __attribute__((target("arch=x86-64")))

// A message built in a fixed buffer (no allocation, no formatting library).
struct Message {
  char text[512];
  size_t length;
};

BNMLP_BASELINE_CODE void Append(Message* message, const char* text) {
  while (*text != '\0' && message->length + 1 < sizeof(message->text)) {
    message->text[message->length++] = *text++;
  }
}

// Appends " name" to `missing` if the CPU lacks the extension `name`;
// __builtin_cpu_supports takes only a string literal, hence a macro.
#define BNMLP_REQUIRE(name) \
  if (!__builtin_cpu_supports(name)) Append(&missing, " " name)

__attribute__((constructor(101))) BNMLP_BASELINE_CODE void CheckCpu() {
  __builtin_cpu_init();
  Message missing = {};
  // The extensions -march=x86-64-v2/v3/v4 enable (and -march=native on
  // such CPUs), as the compiler announces them; x86-64-v3's F16C, LZCNT and
  // MOVBE come with its AVX2, FMA and BMI2 on every CPU (and clang cannot
  // test them).
#ifdef __SSE3__
  BNMLP_REQUIRE("sse3");
#endif
#ifdef __SSSE3__
  BNMLP_REQUIRE("ssse3");
#endif
#ifdef __SSE4_1__
  BNMLP_REQUIRE("sse4.1");
#endif
#ifdef __SSE4_2__
  BNMLP_REQUIRE("sse4.2");
#endif
#ifdef __POPCNT__
  BNMLP_REQUIRE("popcnt");
#endif
#ifdef __AVX__
  BNMLP_REQUIRE("avx");
#endif
#ifdef __AVX2__
  BNMLP_REQUIRE("avx2");
#endif
#ifdef __FMA__
  BNMLP_REQUIRE("fma");
#endif
#ifdef __BMI__
  BNMLP_REQUIRE("bmi");
#endif
#ifdef __BMI2__
  BNMLP_REQUIRE("bmi2");
#endif
#ifdef __AVX512F__
  BNMLP_REQUIRE("avx512f");
#endif
#ifdef __AVX512VL__
  BNMLP_REQUIRE("avx512vl");
#endif
#ifdef __AVX512BW__
  BNMLP_REQUIRE("avx512bw");
#endif
#ifdef __AVX512DQ__
  BNMLP_REQUIRE("avx512dq");
#endif
#ifdef __AVX512CD__
  BNMLP_REQUIRE("avx512cd");
#endif
#ifdef BNMLP_CPU_CHECK_TEST_FEATURE  // tests/common: one no CPU here has
  BNMLP_REQUIRE(BNMLP_CPU_CHECK_TEST_FEATURE);
#endif
  if (missing.length == 0) return;

  Message message = {};
  Append(&message, program_invocation_short_name);
  Append(&message, ": this CPU lacks");
  missing.text[missing.length] = '\0';
  Append(&message, missing.text);
  Append(&message,
         ", which this build needs (compiled for -march=" BNMLP_MARCH_NAME
         "). Build for this CPU with -DBNMLP_MARCH=x86-64 (any x86-64 CPU) "
         "or -DBNMLP_MARCH=native; the Docker image with --build-arg "
         "BNMLP_MARCH=x86-64 (docs/docker.md).\n");
  ssize_t ignored = write(STDERR_FILENO, message.text, message.length);
  (void)ignored;
  _exit(1);
}

}  // namespace
