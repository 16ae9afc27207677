#pragma once
// One writer per results folder: a sweep (or a shard of one, or a merge) holds an advisory
// lock on OUT/<experiment>/ while it runs and assembles, so a second process started on
// the same folder is refused with a clear message instead of racing it. MPI ranks share
// their folder under rank 0's lock. The lock is flock(2): the kernel drops it when the
// process ends, however it ends, so a killed sweep never leaves the folder locked.

#include <filesystem>
#include <string>

namespace istlab {

class FolderLock {
 public:
  // Takes `folder`'s lock named `name` (created with the folder if needed); throws
  // ConfigError naming the process that holds it.
  FolderLock(const std::filesystem::path& folder, const std::string& name);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int descriptor_ = -1;
};

// Whether another process holds `folder`'s lock now (a live sweep, shard or merge). Reads
// only: creates nothing, follows no link.
bool folder_locked(const std::filesystem::path& folder);

}  // namespace istlab
