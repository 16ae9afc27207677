#include "istlab/data/input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

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

namespace {

constexpr std::size_t kInputBuffer = std::size_t{1} << 18;
constexpr unsigned char kGzipMagic[2] = {0x1f, 0x8b};

std::string system_error(int number) { return std::strerror(number); }

}  // namespace

Input::Input(const std::string& path) : path_(path), buffer_(kInputBuffer) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw DataError(path, "", "a readable file (" + system_error(errno) + ")");
  struct stat info {};
  std::string problem;
  if (::fstat(fd_, &info) != 0)
    problem = "a readable file (" + system_error(errno) + ")";
  else if (!S_ISREG(info.st_mode))
    problem = S_ISDIR(info.st_mode) ? "a regular file, not a folder" : "a regular file";
  else if (static_cast<std::uint64_t>(info.st_size) > kMaxFileBytes)
    problem = "a file of at most 4 GiB, found " + str(static_cast<std::uint64_t>(info.st_size)) +
              " bytes";
  if (!problem.empty()) {
    ::close(fd_);
    throw DataError(path, "", problem);
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  file_size_ = static_cast<std::uint64_t>(info.st_size);
  stream_.next_in = buffer_.data();
  try {
    while (stream_.avail_in < 2 && fill()) {
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
  compressed_ = stream_.avail_in >= 2 && std::memcmp(stream_.next_in, kGzipMagic, 2) == 0;
  if (!compressed_) return;
  if (const int code = ::inflateInit2(&stream_, 15 + 16); code != Z_OK) {  // +16: gzip only
    ::close(fd_);
    if (code == Z_MEM_ERROR) throw std::bad_alloc();
    throw DataError(path, "", "a file zlib can open (zlib: inflateInit2 failed)");
  }
  inflating_ = true;
}

Input::~Input() {
  if (inflating_) ::inflateEnd(&stream_);
  ::close(fd_);
}

bool Input::fill() {
  if (stream_.avail_in > 0 && stream_.next_in != buffer_.data())
    std::memmove(buffer_.data(), stream_.next_in, stream_.avail_in);
  stream_.next_in = buffer_.data();
  while (true) {
    const ssize_t got =
        ::read(fd_, buffer_.data() + stream_.avail_in, buffer_.size() - stream_.avail_in);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)  // an I/O error, not a fault of the data: the message must not say gzip
      throw DataError(path_, where(offset_), "a readable file (" + system_error(errno) + ")");
    stream_.avail_in += static_cast<uInt>(got);
    file_read_ += static_cast<std::uint64_t>(got);
    return got > 0;
  }
}

std::size_t Input::read(char* out, std::size_t size) {
  const std::size_t done = compressed_ ? read_gzip(out, size) : read_plain(out, size);
  offset_ += done;
  if (offset_ > kMaxFileBytes)
    throw DataError(path_, where(kMaxFileBytes), "at most 4 GiB of data once decompressed");
  return done;
}

std::size_t Input::read_plain(char* out, std::size_t size) {
  std::size_t done = std::min<std::size_t>(size, stream_.avail_in);  // the bytes looked at first
  std::memcpy(out, stream_.next_in, done);
  stream_.next_in += done;
  stream_.avail_in -= static_cast<uInt>(done);
  while (done < size) {
    const ssize_t got = ::read(fd_, out + done, std::min<std::size_t>(size - done, 1u << 30));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      throw DataError(path_, where(offset_ + done),
                      "a readable file (" + system_error(errno) + ")");
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

std::size_t Input::read_gzip(char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size && !ended_) {
    if (stream_.avail_in == 0 && !fill())
      throw DataError(path_, where(offset_ + done),
                      "more gzip data (the compressed file ends early)");
    const auto room = static_cast<uInt>(std::min<std::size_t>(size - done, 1u << 30));
    stream_.next_out = reinterpret_cast<Bytef*>(out + done);
    stream_.avail_out = room;
    const int code = ::inflate(&stream_, Z_NO_FLUSH);
    done += room - stream_.avail_out;
    if (code == Z_STREAM_END)
      ended_ = !next_member();
    else if (code != Z_OK && code != Z_BUF_ERROR)  // (Z_BUF_ERROR: it needs more input)
      fail_inflate(code, offset_ + done);
  }
  return done;
}

bool Input::next_member() {
  while (stream_.avail_in < 2 && fill()) {
  }
  if (stream_.avail_in == 0) return false;
  if (stream_.avail_in >= 2 && std::memcmp(stream_.next_in, kGzipMagic, 2) == 0) {
    ::inflateReset(&stream_);
    return true;
  }
  const std::uint64_t at = file_used();
  const std::uint64_t trailing = std::max(file_size_, file_read_) - at;
  throw DataError(path_, "offset " + str(at),
                  "the end of the file after the gzip data (found " + str(trailing) +
                      " trailing bytes that are not gzip)");
}

void Input::fail_inflate(int code, std::uint64_t at) const {
  if (code == Z_MEM_ERROR) throw std::bad_alloc();
  throw DataError(path_, where(at),
                  std::string("valid gzip data (zlib: ") +
                      (stream_.msg != nullptr ? stream_.msg : "error " + std::to_string(code)) +
                      ")");
}

std::string read_exact(Input& in, std::size_t size, const std::string& expected) {
  std::string bytes(size, '\0');
  if (in.read(bytes.data(), size) < size)
    throw DataError(in.path(), in.where(in.offset()), expected + "; the file ends here");
  return bytes;
}

PayloadReader::PayloadReader(Input& in, std::uint64_t size, std::string what)
    : in_(in), size_(size), start_(in.offset()), what_(std::move(what)) {
  if (in.compressed()) return;
  const std::uint64_t left = in.plain_bytes_left();
  if (left < size) fail_short(start_ + left);
  if (left > size) fail_long();
}

void PayloadReader::read(unsigned char* out, std::size_t count) {
  if (in_.read(reinterpret_cast<char*>(out), count) < count) fail_short(in_.offset());
}

void PayloadReader::finish() {
  char extra = 0;
  if (in_.read(&extra, 1) > 0) fail_long();
}

void PayloadReader::fail_short(std::uint64_t end) const {
  throw DataError(in_.path(), in_.where(end),
                  str(size_) + " bytes of data from offset " + str(start_) + " (" + what_ +
                      "); the file ends here");
}

void PayloadReader::fail_long() const {
  throw DataError(in_.path(), in_.where(start_ + size_),
                  "the end of the file after " + str(size_) + " bytes of data (" + what_ + ")");
}

}  // namespace istlab::reading
