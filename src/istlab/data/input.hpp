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
  // A plain file's bytes after offset() as it was opened (0 for a compressed one).
  std::uint64_t plain_bytes_left() const {
    return compressed_ || file_size_ < offset_ ? 0 : file_size_ - offset_;
  }
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

// The `size` bytes of data a header promised (`what` names them in messages: "60000 × 784
// float32"), read part by part into storage of the caller's, and then the end of the file.
// A plain file is sized when the reader is made, so that a header that lies about the size is
// refused before anything of that size is allocated; a compressed one, whose size shows only
// as it is read, is refused where its data ends (the caller allocates as the data arrives).
class PayloadReader {
 public:
  // Throws, for a plain file, when it does not hold exactly `size` more bytes.
  PayloadReader(Input& in, std::uint64_t size, std::string what);
  // Reads the next `count` bytes; an error when the file ends first.
  void read(unsigned char* out, std::size_t count);
  // After the last part: an error unless the file ends here.
  void finish();

 private:
  [[noreturn]] void fail_short(std::uint64_t end) const;
  [[noreturn]] void fail_long() const;

  Input& in_;
  std::uint64_t size_;
  std::uint64_t start_;  // the data's offset (decompressed)
  std::string what_;
};

}  // namespace istlab::reading
