#pragma once
// Identity of the running build, recorded in every manifest.

namespace istlab {

struct BuildInfo {
  const char* version;
  const char* git_commit;
  bool git_dirty;
  const char* compiler;
  const char* flags;
  const char* libraries;
};

const BuildInfo& build_info();

}  // namespace istlab
