# Precompiled headers for the targets with several source files. Each file
# of such a target otherwise parses the same heavy third-party headers again
# (gRPC, the generated service, protobuf, GoogleTest, Eigen): on
# server/bnmlp_service.cc, GCC -O3 took 15.0 s without and 7.7 s with a
# precompiled header of them (parsing alone: 11.0 s); core/trainer.cc 8.1 s
# and 3.6 s. Each target builds its own (a PCH needs exactly its target's
# flags, and they differ by target), so only targets of six files or more
# have one: GCC takes ~24 s to build one (~300 MB), what three or four small
# files save.
#
#   bnmlp_precompile_headers(<target> [EIGEN] [GRPC] [ONNX] [GTEST])
#
# Always the standard library and Abseil's status and strings; EIGEN,
# GRPC (grpc++ and the generated bnmlp service), ONNX (libonnx's protobuf
# classes) and GTEST (GoogleTest and GoogleMock) only for targets that use
# them: core/ must not see RPC types, client/ does not see Eigen, and gRPC's
# headers define static objects that need its library.
#
# BNMLP_PCH=OFF builds without them. The fuzz preset does, so that CI still
# compiles the libraries once without: a file that forgets an include the
# PCH would have supplied fails there. The portable preset does too: the
# image's build caches objects with ccache, which does not cache files
# compiled with a PCH.
option(BNMLP_PCH "Precompiled headers for targets with several sources" ON)

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
