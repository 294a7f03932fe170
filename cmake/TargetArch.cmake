# BNMLP_MARCH: the instruction set our code is compiled for (-march=...).
#   native      this machine's vector units (the default: local builds,
#               benchmarks); the binaries may not run on another CPU.
#   x86-64-v3   AVX2 + FMA (Haswell, Zen 1 and later): the Docker image's
#               default (docker/Dockerfile's ARG BNMLP_MARCH).
#   x86-64-v4   AVX-512 (Skylake-SP, Zen 4 and later).
#   x86-64-v2, x86-64
#               older CPUs; x86-64 runs on any x86-64 but leaves everything
#               except OpenBLAS without AVX (training took 1.25x the CPU
#               time of native in bench/compare_march.sh).
#   ""          no -march flag: the compiler's default (x86-64 on Debian).
# Any other value the compiler accepts for -march (e.g. znver4) works too.
# OpenBLAS picks its kernels at run time whatever this is.
set(BNMLP_MARCH "native" CACHE STRING
    "Instruction set to compile for: native, x86-64-v4, x86-64-v3, x86-64-v2, x86-64 or '' (compiler default)")
set_property(CACHE BNMLP_MARCH PROPERTY STRINGS native x86-64-v4 x86-64-v3
                                                x86-64-v2 x86-64 "")
# The boolean it replaces (ON = native) may linger in older build trees.
if(DEFINED CACHE{BNMLP_NATIVE})
  if(NOT BNMLP_NATIVE)
    message(WARNING "BNMLP_NATIVE=OFF is gone and ignored; set BNMLP_MARCH "
                    "instead (now '${BNMLP_MARCH}'), e.g. -DBNMLP_MARCH=x86-64")
  endif()
  unset(BNMLP_NATIVE CACHE)
endif()

include(CheckCXXSourceCompiles)

# Sets BNMLP_MARCH_FLAGS (the compile options) and BNMLP_MARCH_HAS_AVX512
# (whether they enable AVX-512) in the caller's scope. Fails configuration
# with the accepted values if the compiler rejects -march=${BNMLP_MARCH}.
function(bnmlp_resolve_march)
  if("${BNMLP_MARCH}" STREQUAL "")
    set(flags "")
  else()
    set(flags "-march=${BNMLP_MARCH}")
  endif()
  # Cached per value, so changing BNMLP_MARCH checks again.
  string(MAKE_C_IDENTIFIER "${BNMLP_MARCH}" key)
  set(CMAKE_REQUIRED_FLAGS "${flags}")
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_source_compiles("int main() { return 0; }"
                            BNMLP_MARCH_ACCEPTED_${key})
  if(NOT BNMLP_MARCH_ACCEPTED_${key})
    message(FATAL_ERROR "BNMLP_MARCH='${BNMLP_MARCH}': ${CMAKE_CXX_COMPILER} "
      "rejects ${flags}; use native, x86-64-v4, x86-64-v3, x86-64-v2, "
      "x86-64 or '' (see cmake/TargetArch.cmake)")
  endif()
  check_cxx_source_compiles("
#ifndef __AVX512F__
#error no AVX-512
#endif
int main() { return 0; }" BNMLP_MARCH_AVX512_${key})
  set(BNMLP_MARCH_FLAGS "${flags}" PARENT_SCOPE)
  set(BNMLP_MARCH_HAS_AVX512 "${BNMLP_MARCH_AVX512_${key}}" PARENT_SCOPE)
endfunction()
