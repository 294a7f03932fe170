// A program for cpu_check_test.cc: cmake/cpu_check.cc is compiled into it
// (through bnmlp_tsan_defaults or directly), so main() runs only if the
// CPU check passed.
#include <cstdio>

int main() {
  std::puts("reached main");
  return 0;
}
