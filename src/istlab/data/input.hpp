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

// A regular file (not a FIFO, folder or device) of at most 4 GiB, read through zlib.
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
  // A short read is the end of the data unless zlib reports a broken stream.
  void check_stream() const;

  std::string path_;
  gzFile file_ = nullptr;
  bool compressed_ = false;
  std::uint64_t offset_ = 0;
};

// Exactly `size` bytes (a small header part), or an error where the file ends.
std::string read_exact(Input& in, std::size_t size, const std::string& expected);

// The `size` bytes of data a header promised, and then the end of the file. The buffer grows
// with the data actually read, so a header that lies about the size allocates nothing.
std::vector<unsigned char> read_payload(Input& in, std::uint64_t size, const std::string& what);

}  // namespace istlab::reading
