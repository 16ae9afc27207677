#include "istlab/sweep/lock.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "istlab/sweep/config.hpp"

namespace istlab {

FolderLock::FolderLock(const std::filesystem::path& folder, const std::string& name) {
  std::filesystem::create_directories(folder);
  const std::filesystem::path path = folder / name;
  // Never through a link, and never anything but a regular file: anyone who can write a
  // shared results folder could otherwise point the lock at another user's file, which this
  // process would truncate and write its pid into. (O_NONBLOCK: a FIFO must not block.)
  descriptor_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  const int open_error = errno;
  struct stat info {};
  if (descriptor_ >= 0 && (::fstat(descriptor_, &info) != 0 || !S_ISREG(info.st_mode))) {
    ::close(descriptor_);
    descriptor_ = -1;
    throw ConfigError(path.string(), {}, "", std::nullopt,
                      "the lock file is not a regular file; remove it (istlab makes its own)");
  }
  if (descriptor_ < 0 && open_error == ELOOP)
    throw ConfigError(path.string(), {}, "", std::nullopt,
                      "the lock file is a symbolic link, which istlab never follows; remove it "
                      "(istlab makes its own)");
  if (descriptor_ < 0)
    throw std::runtime_error(
        fmt::format("{}: cannot open the lock file: {}", path.string(), std::strerror(open_error)));
  if (::flock(descriptor_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {};
    [[maybe_unused]] const auto read = ::pread(descriptor_, holder, sizeof holder - 1, 0);
    ::close(descriptor_);
    if (error != EWOULDBLOCK)
      throw std::runtime_error(
          fmt::format("{}: cannot lock: {}", path.string(), std::strerror(error)));
    const std::string pid(holder, std::strcspn(holder, "\n"));
    throw ConfigError(folder.string(), {}, "", std::nullopt,
                      fmt::format("another istlab process{} is writing this folder; wait for it to "
                                  "finish, or give another --out (each shard its own, then "
                                  "istlab merge)",
                                  pid.empty() ? "" : " (pid " + pid + ")"));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(descriptor_, 0) == 0) {
    [[maybe_unused]] const auto written = ::pwrite(descriptor_, pid.data(), pid.size(), 0);
  }
}

FolderLock::~FolderLock() {
  if (descriptor_ >= 0) ::close(descriptor_);  // closing drops the lock
}

bool folder_locked(const std::filesystem::path& folder) {
  const int descriptor =
      ::open((folder / ".lock").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (descriptor < 0) return false;
  struct stat info {};
  const bool locked = ::fstat(descriptor, &info) == 0 && S_ISREG(info.st_mode) &&
                      ::flock(descriptor, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(descriptor);
  return locked;
}

}  // namespace istlab
