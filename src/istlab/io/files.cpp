#include "istlab/io/files.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace istlab {

void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           bool durable) {
  const std::filesystem::path temporary =
      path.parent_path() / fmt::format(".{}.tmp.{}", path.filename().string(), ::getpid());
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr)
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", temporary.string(), std::strerror(errno)));
  const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size() &&
                       std::fflush(file) == 0 && (!durable || ::fsync(::fileno(file)) == 0);
  const int write_errno = errno;
  if (std::fclose(file) != 0 || !written) {
    std::filesystem::remove(temporary);
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", temporary.string(), std::strerror(write_errno)));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary);
    throw std::runtime_error(fmt::format("cannot rename {} to {}: {}", temporary.string(),
                                         path.string(), error.message()));
  }
}

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string hex_hash(std::string_view text) { return fmt::format("{:016x}", stable_hash(text)); }

}  // namespace istlab
