# Warnings for our own targets; -Werror when BNMLP_WERROR is ON (CI).
function(bnmlp_set_warnings target)
  target_compile_options(${target} INTERFACE -Wall -Wextra -Wpedantic
    -Wno-unused-parameter)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND BNMLP_MARCH_HAS_AVX512)
    # GCC 12 reports its own AVX-512 intrinsics (_mm512_undefined_*, reached
    # through Eigen when BNMLP_MARCH enables AVX-512) as (maybe-)uninitialized: GCC bug
    # 105593, fixed in GCC 13. Clang (the sanitizer builds) still checks.
    target_compile_options(${target} INTERFACE -Wno-uninitialized
                           -Wno-maybe-uninitialized)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Checks every ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED.
    target_compile_options(${target} INTERFACE -Wthread-safety)
  endif()
  if(BNMLP_WERROR)
    target_compile_options(${target} INTERFACE -Werror)
  endif()
endfunction()
