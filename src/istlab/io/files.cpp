#include "istlab/io/files.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace istlab {
namespace {

namespace fs = std::filesystem;

// The errno of a failed write, in words; the limits a long sweep runs into say which one.
std::string describe_error(int error) {
  switch (error) {
    case EFBIG:
      return "file size limit reached (ulimit -f)";
    case ENOSPC:
      return "no space left on device";
    case EDQUOT:
      return "disk quota exceeded";
    default:
      return std::strerror(error);
  }
}

// Writes all of `content` to `fd`, then fsyncs when `durable`: 0, or the failing errno.
// Plain write(2) rather than stdio, so the errno is that of the call that failed.
int write_all(int fd, std::string_view content, bool durable) {
  while (!content.empty()) {
    const ssize_t written = ::write(fd, content.data(), content.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return errno;
    if (written == 0) return EIO;  // a regular file never accepts nothing; do not spin
    content.remove_prefix(static_cast<std::size_t>(written));
  }
  return durable && ::fsync(fd) != 0 ? errno : 0;
}

// This host and pid namespace, hashed: a pid names a process only within both, and a
// results folder may be shared by machines (MPI ranks) or containers.
const std::string& machine_tag() {
  static const std::string tag = [] {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    char pid_namespace[64] = {};  // "pid:[4026531836]"; readlink does not terminate it
    if (::readlink("/proc/self/ns/pid", pid_namespace, sizeof pid_namespace - 1) < 0)
      pid_namespace[0] = '\0';
    return hex_hash(fmt::format("{}|{}", host, pid_namespace));
  }();
  return tag;
}

// The pid of the writer that `name` is a temporary file of, when `name` is exactly what
// temporary_path() gives on this machine; else 0.
int temporary_owner(const std::string& name) {
  const std::string infix = ".tmp." + machine_tag() + ".";
  const auto at = name.rfind(infix);
  if (at == std::string::npos || at < 2) return 0;  // ".", then at least one character
  const char* digits = name.data() + at + infix.size();
  const char* end = name.data() + name.size();
  int pid = 0;
  const auto parsed = std::from_chars(digits, end, pid);
  if (parsed.ec != std::errc() || parsed.ptr != end || pid <= 0) return 0;
  // Rebuilding the name rejects leading zeros, a missing dot and anything else inexact.
  const fs::path original = name.substr(1, at - 1);
  return temporary_path(original, pid) == fs::path(name) ? pid : 0;
}

// kill(pid, 0) sends nothing; EPERM means the process exists but is another user's.
bool process_exists(int pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Where in `text` the well-formed UTF-8 sequence starting at `at` ends, or `at` when none
// starts there (Unicode Table 3-7).
std::size_t utf8_sequence_end(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) return at + 1;
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    return at;
  }
  if (text.size() - at < length) return at;
  if (byte(at + 1) < second_min || byte(at + 1) > second_max) return at;
  for (std::size_t i = 2; i < length; ++i)
    if (byte(at + i) < 0x80 || byte(at + i) > 0xBF) return at;
  return at + length;
}

}  // namespace

FileRead read_regular_file(const fs::path& path, std::uint64_t max_bytes) {
  FileRead read;
  auto unreadable = [&](int error) {
    read.problem = FileRead::Problem::kUnreadable;
    read.reason = describe_error(error);
    return read;
  };
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return unreadable(errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return unreadable(error);
  }
  if (!S_ISREG(info.st_mode) || static_cast<std::uint64_t>(info.st_size) > max_bytes) {
    read.problem = S_ISDIR(info.st_mode)    ? FileRead::Problem::kFolder
                   : !S_ISREG(info.st_mode) ? FileRead::Problem::kNotRegular
                                            : FileRead::Problem::kTooLarge;
    read.size = static_cast<std::uint64_t>(info.st_size);
    ::close(fd);
    return read;
  }
  // Up to one byte past the cap, so a file that grew while being read is caught.
  read.text.resize(static_cast<std::size_t>(info.st_size) + 1);
  std::size_t done = 0;
  while (true) {
    if (done == read.text.size()) {
      if (done > max_bytes) break;
      read.text.resize(std::min<std::uint64_t>(2 * done, max_bytes + 1));
    }
    const ssize_t got = ::read(fd, read.text.data() + done, read.text.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      ::close(fd);
      return unreadable(error);
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  ::close(fd);
  read.text.resize(done);
  if (done > max_bytes) {
    read.problem = FileRead::Problem::kGrew;
    read.text.clear();
  }
  return read;
}

void write_file_atomically(const fs::path& path, std::string_view content, bool durable) {
  const fs::path temporary = temporary_path(path, static_cast<int>(::getpid()));
  // Whatever stands at our temporary name (a link someone planted in a shared results folder,
  // a FIFO, a file of a dead process with our pid) is removed, never opened: the file is
  // created anew, and O_EXCL | O_NOFOLLOW refuse anything that appears there meanwhile.
  std::error_code ignored_removal;
  fs::remove(temporary, ignored_removal);
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0)
    throw std::runtime_error(fmt::format("cannot write {}: cannot create {}: {}", path.string(),
                                         temporary.string(), describe_error(errno)));
  int error = write_all(fd, content, durable);
  // Delayed write errors (NFS, quotas) may surface only at close; EINTR still closes.
  if (::close(fd) != 0 && error == 0 && errno != EINTR) error = errno;
  std::error_code ignored;
  if (error != 0) {
    fs::remove(temporary, ignored);
    throw std::runtime_error(fmt::format("cannot write {} ({} bytes): {}", path.string(),
                                         content.size(), describe_error(error)));
  }
  std::error_code rename_error;
  fs::rename(temporary, path, rename_error);
  if (rename_error) {
    fs::remove(temporary, ignored);
    throw std::runtime_error(fmt::format("cannot rename {} to {}: {}", temporary.string(),
                                         path.string(), rename_error.message()));
  }
}

fs::path temporary_path(const fs::path& path, int pid) {
  return path.parent_path() /
         fmt::format(".{}.tmp.{}.{}", path.filename().string(), machine_tag(), pid);
}

int remove_stale_temporaries(const fs::path& folder) {
  int removed = 0;
  std::error_code error;  // a missing or unreadable folder ends the loop at once
  for (fs::directory_iterator entry(folder, error), end; !error && entry != end;
       entry.increment(error)) {
    const int pid = temporary_owner(entry->path().filename().string());
    if (pid == 0 || process_exists(pid)) continue;
    std::error_code ignored;
    // Not through a symlink, never a folder; another cleaner may have removed it already.
    if (entry->symlink_status(ignored).type() != fs::file_type::regular) continue;
    if (fs::remove(entry->path(), ignored)) ++removed;
  }
  return removed;
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

std::size_t invalid_utf8_offset(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = utf8_sequence_end(text, at);
    if (end == at) return at;
    at = end;
  }
  return std::string_view::npos;
}

std::string escape_invalid_utf8(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = utf8_sequence_end(text, at);
    if (end == at) {
      escaped += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[at]));
      ++at;
    } else {
      escaped.append(text.substr(at, end - at));
      at = end;
    }
  }
  return escaped;
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : escape_invalid_utf8(text)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F)
      out += fmt::format("\\x{:02x}", byte);
    else
      out += c;
  }
  return out;
}

}  // namespace istlab
