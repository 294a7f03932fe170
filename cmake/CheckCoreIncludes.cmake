# cmake -DDIR=<core dir> -P CheckCoreIncludes.cmake
# Fails if a source file under DIR includes gRPC or protobuf headers.
file(GLOB_RECURSE sources "${DIR}/*.h" "${DIR}/*.cc")
set(bad "")
foreach(f IN LISTS sources)
  file(STRINGS "${f}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](grpc|grpcpp|google/protobuf|bnmlp/v1|src/proto)")
  if(lines)
    list(APPEND bad "${f}: ${lines}")
  endif()
endforeach()
if(bad)
  list(JOIN bad "\n  " msg)
  message(FATAL_ERROR "core/ must not include RPC headers:\n  ${msg}")
endif()
