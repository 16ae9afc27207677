#include "istlab/data/input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

namespace istlab::reading {

std::string quoted(std::string_view text) {
  if (text.empty()) return "nothing";
  constexpr std::size_t kShown = 32;
  // (appended piece by piece: GCC 12 warns falsely on "'" + std::string(...) here)
  std::string result(1, '\'');
  result.append(text.substr(0, kShown));
  result.append(text.size() <= kShown ? "'" : "...'");
  return result;
}

Input::Input(const std::string& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw DataError(path, "", std::string("a readable file (") + std::strerror(errno) + ")");
  struct stat info {};
  std::string problem;
  if (::fstat(fd, &info) != 0)
    problem = std::string("a readable file (") + std::strerror(errno) + ")";
  else if (!S_ISREG(info.st_mode))
    problem = S_ISDIR(info.st_mode) ? "a regular file, not a folder" : "a regular file";
  else if (static_cast<std::uint64_t>(info.st_size) > kMaxFileBytes)
    problem = "a file of at most 4 GiB, found " + str(static_cast<std::uint64_t>(info.st_size)) +
              " bytes";
  if (problem.empty()) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  if (problem.empty() && (file_ = ::gzdopen(fd, "rb")) == nullptr)
    problem = "a readable file (zlib could not open it)";
  if (!problem.empty()) {
    ::close(fd);
    throw DataError(path, "", problem);
  }
  ::gzbuffer(file_, 1u << 18);
  compressed_ = ::gzdirect(file_) == 0;
}

Input::~Input() { ::gzclose(file_); }

std::size_t Input::read(char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(size - done, 1u << 30));
    const int got = ::gzread(file_, out + done, chunk);
    if (got > 0) {
      done += static_cast<std::size_t>(got);
      offset_ += static_cast<std::uint64_t>(got);
    }
    if (got < static_cast<int>(chunk)) {
      check_stream();
      break;
    }
  }
  if (offset_ > kMaxFileBytes)
    throw DataError(path_, where(kMaxFileBytes), "at most 4 GiB of data once decompressed");
  return done;
}

void Input::check_stream() const {
  int code = Z_OK;
  const char* message = ::gzerror(file_, &code);
  if (code == Z_OK) return;
  if (code == Z_MEM_ERROR) throw std::bad_alloc();
  if (code == Z_BUF_ERROR)
    throw DataError(path_, where(offset_), "more gzip data (the compressed file ends early)");
  std::string text = code == Z_ERRNO ? std::strerror(errno) : message ? message : "";
  if (const auto colon = text.find(": "); text.rfind("<fd:", 0) == 0 && colon != text.npos)
    text.erase(0, colon + 2);  // zlib prefixes its name for the file, "<fd:3>: "
  throw DataError(path_, where(offset_), "valid gzip data (zlib: " + text + ")");
}

std::string read_exact(Input& in, std::size_t size, const std::string& expected) {
  std::string bytes(size, '\0');
  if (in.read(bytes.data(), size) < size)
    throw DataError(in.path(), in.where(in.offset()), expected + "; the file ends here");
  return bytes;
}

std::vector<unsigned char> read_payload(Input& in, std::uint64_t size, const std::string& what) {
  const std::uint64_t start = in.offset();
  std::vector<unsigned char> data;
  while (data.size() < size) {
    const std::size_t old = data.size();
    const auto want = static_cast<std::size_t>(
        std::min<std::uint64_t>(size - old, std::max<std::uint64_t>(kChunk, old)));
    data.resize(old + want);
    const std::size_t got = in.read(reinterpret_cast<char*>(data.data() + old), want);
    data.resize(old + got);
    if (got < want)
      throw DataError(in.path(), in.where(in.offset()),
                      str(size) + " bytes of data from offset " + str(start) + " (" + what +
                          "); the file ends here");
  }
  char extra = 0;
  if (in.read(&extra, 1) > 0)
    throw DataError(in.path(), in.where(start + size),
                    "the end of the file after " + str(size) + " bytes of data (" + what + ")");
  return data;
}

}  // namespace istlab::reading
