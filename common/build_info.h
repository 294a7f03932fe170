// What is running: the project version (CMake's project(VERSION)) and the
// git commit it was built from ("unknown" outside a git checkout, with
// "-dirty" when tracked files had uncommitted changes). Defined in a file
// the build writes (cmake/WriteBuildInfo.cmake); link bnmlp_build_info.
#ifndef BNMLP_COMMON_BUILD_INFO_H_
#define BNMLP_COMMON_BUILD_INFO_H_

namespace bnmlp {

const char* ProjectVersion();
const char* GitCommit();

}  // namespace bnmlp

#endif  // BNMLP_COMMON_BUILD_INFO_H_
