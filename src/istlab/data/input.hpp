#pragma once
// What the dataset readers share (internal to data/; their interface is readers.hpp): the
// size caps, a file opened as hostile input and read through zlib (so gzip-compressed files
// are decompressed and others read as they are), and helpers for messages.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "istlab/data/dataset.hpp"

namespace istlab::reading {

// A hostile header must not make us allocate or read without bound.
inline constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 32;  // 4 GiB, also decompressed
inline constexpr std::uint64_t kMaxValues = std::uint64_t{1} << 31;     // feature values in N × d
inline constexpr std::size_t kChunk = std::size_t{1} << 20;

inline std::string str(std::uint64_t value) { return std::to_string(value); }

// `a * b`, or false when it overflows 64 bits.
inline bool multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& product) {
  return !__builtin_mul_overflow(a, b, &product);
}

// A token of the file for a message: quoted and cut (DataError escapes control bytes).
std::string quoted(std::string_view text);

// A regular file (not a FIFO, folder or device) of at most 4 GiB, decompressed as it is read
// when it starts with the gzip magic bytes (1f 8b), read as it is otherwise. A gzip file may
// hold several members one after another (as `cat a.gz b.gz` makes); anything else after
// them is an error, where zlib's gzread would have ignored it.
class Input {
 public:
  explicit Input(const std::string& path);
  ~Input();
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t offset() const { return offset_; }
  bool compressed() const { return compressed_; }
  std::string where(std::uint64_t offset) const {
    return "offset " + str(offset) + (compressed_ ? " (decompressed)" : "");
  }

  // Reads up to `size` bytes; fewer only at the end of the data.
  std::size_t read(char* out, std::size_t size);

 private:
  std::size_t read_plain(char* out, std::size_t size);
  std::size_t read_gzip(char* out, std::size_t size);
  // Reads more of the file behind the unused input; false at the end of the file.
  bool fill();
  // After a gzip member's end: whether another member follows (else the file must end).
  bool next_member();
  [[noreturn]] void fail_inflate(int code, std::uint64_t at) const;  // at: decompressed
  // Bytes of the file used so far (read and handed to zlib or out).
  std::uint64_t file_used() const { return file_read_ - stream_.avail_in; }

  std::string path_;
  int fd_ = -1;
  std::uint64_t file_size_ = 0;
  bool compressed_ = false;
  bool inflating_ = false;             // stream_ holds inflate's state
  bool ended_ = false;                 // the last gzip member has ended and nothing follows
  std::vector<unsigned char> buffer_;  // bytes read from the file; the unused ones are
  z_stream stream_{};                  // stream_.next_in, stream_.avail_in of them
  std::uint64_t file_read_ = 0;        // bytes read from the file
  std::uint64_t offset_ = 0;           // bytes handed out (decompressed)
};

// Exactly `size` bytes (a small header part), or an error where the file ends.
std::string read_exact(Input& in, std::size_t size, const std::string& expected);

// The `size` bytes of data a header promised, and then the end of the file. The buffer grows
// with the data actually read, so a header that lies about the size allocates nothing.
std::vector<unsigned char> read_payload(Input& in, std::uint64_t size, const std::string& what);

}  // namespace istlab::reading
