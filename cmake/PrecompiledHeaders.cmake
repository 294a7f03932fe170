# Precompiled headers for the targets with several source files, in the
# clang builds (asan, tsan). Each file of such a target otherwise parses the
# same heavy third-party headers again (gRPC, the generated service,
# protobuf, GoogleTest, Eigen). Measured from clean builds on a 2-vCPU AMD
# EPYC host, -j2: clang's ASan build took 1000 s with them against 1172 s
# without, the TSan build 857 s against ~1150 s. GCC gains per file too
# (server/bnmlp_service.cc at -O3: 16.7 s without, 7.0 s with), but its
# precompiled headers are large (~300 MB, ~24 s each to build), and the whole
# release build took 1011 s with them against 1041 s without: not worth
# giving up the check below. Each target builds its own (a PCH needs exactly
# its target's flags, and they differ by target), so only targets of six
# files or more have one.
#
#   bnmlp_precompile_headers(<target> [EIGEN] [GRPC] [ONNX] [GTEST])
#
# Always the standard library and Abseil's status and strings; EIGEN,
# GRPC (grpc++ and the generated bnmlp service), ONNX (libonnx's protobuf
# classes) and GTEST (GoogleTest and GoogleMock) only for targets that use
# them: core/ must not see RPC types, client/ does not see Eigen, and gRPC's
# headers define static objects that need its library.
#
# BNMLP_PCH defaults to ON with clang, OFF otherwise. The GCC release build
# is thus compiled without them, so a file that forgets an include a PCH
# would have supplied still fails in CI. It is also OFF by default in builds
# through ccache (CMAKE_CXX_COMPILER_LAUNCHER, as the image's build sets),
# which does not cache files compiled with a PCH.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND
   NOT CMAKE_CXX_COMPILER_LAUNCHER MATCHES "ccache")
  set(bnmlp_pch_default ON)
else()
  set(bnmlp_pch_default OFF)
endif()
option(BNMLP_PCH "Precompiled headers for targets with several sources"
       ${bnmlp_pch_default})

function(bnmlp_precompile_headers target)
  if(NOT BNMLP_PCH)
    return()
  endif()
  cmake_parse_arguments(ARG "EIGEN;GRPC;ONNX;GTEST" "" "" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "bnmlp_precompile_headers: unknown parts ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  set(headers <algorithm> <cstdint> <functional> <memory> <optional>
      <string> <utility> <vector> <absl/status/status.h>
      <absl/status/statusor.h> <absl/strings/str_cat.h>
      <absl/strings/string_view.h> <absl/types/span.h>)
  if(ARG_EIGEN)
    list(APPEND headers <Eigen/Core>)
  endif()
  if(ARG_GRPC)
    list(APPEND headers <grpcpp/grpcpp.h> <bnmlp/v1/bnmlp.grpc.pb.h>)
  endif()
  if(ARG_ONNX)
    list(APPEND headers <onnx/onnx_pb.h>)
  endif()
  if(ARG_GTEST)
    list(APPEND headers <gmock/gmock.h> <gtest/gtest.h>)
  endif()
  target_precompile_headers(${target} PRIVATE ${headers})
endfunction()
