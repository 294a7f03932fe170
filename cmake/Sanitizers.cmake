# BNMLP_SANITIZER=address: AddressSanitizer + UndefinedBehaviorSanitizer.
# BNMLP_SANITIZER=thread: ThreadSanitizer.
# BNMLP_FUZZ=ON (clang only, the asan preset): also libFuzzer's coverage
# instrumentation (-fsanitize=fuzzer-no-link) on every target of ours (but
# core's arithmetic: core/fuzz_coverage_ignorelist.txt); the
# fuzz executables in fuzz/ add -fsanitize=fuzzer, which links libFuzzer's
# main.
# Usage: bnmlp_set_sanitizers(<target> <INTERFACE|PUBLIC|PRIVATE>)
function(bnmlp_set_sanitizers target scope)
  if("${BNMLP_SANITIZER}" STREQUAL "address")
    set(flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
              -fno-omit-frame-pointer)
  elseif("${BNMLP_SANITIZER}" STREQUAL "thread")
    set(flags -fsanitize=thread -fno-omit-frame-pointer)
  elseif(NOT "${BNMLP_SANITIZER}" STREQUAL "")
    message(FATAL_ERROR "BNMLP_SANITIZER must be '', 'address' or 'thread'")
  endif()
  if(BNMLP_FUZZ)
    list(APPEND flags -fsanitize=fuzzer-no-link)
  endif()
  if(flags)
    target_compile_options(${target} ${scope} ${flags})
    target_link_options(${target} ${scope} ${flags})
  endif()
endfunction()
