// Which sanitizer this translation unit is built with: BNMLP_ASAN (ASan,
// the asan preset) or BNMLP_TSAN (TSan), defined as 1, else
// undefined. For code that must know, such as tests of glibc's allocator
// (which a sanitizer replaces) or of memory figures (which one inflates).
//
// GCC marks those builds with __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__;
// clang 14 only through __has_feature.
#ifndef BNMLP_COMMON_SANITIZER_BUILD_H_
#define BNMLP_COMMON_SANITIZER_BUILD_H_

#if defined(__SANITIZE_ADDRESS__)
#define BNMLP_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define BNMLP_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(BNMLP_ASAN)
#define BNMLP_ASAN 1
#endif
#if __has_feature(thread_sanitizer) && !defined(BNMLP_TSAN)
#define BNMLP_TSAN 1
#endif
#endif

#endif  // BNMLP_COMMON_SANITIZER_BUILD_H_
