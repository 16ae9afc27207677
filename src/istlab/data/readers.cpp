#include "istlab/data/readers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace istlab {
namespace {

// A hostile header must not make us allocate or read without bound.
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 32;  // 4 GiB, also decompressed
constexpr std::uint64_t kMaxValues = std::uint64_t{1} << 31;     // feature values in N × d
constexpr std::size_t kChunk = std::size_t{1} << 20;

std::string str(std::uint64_t value) { return std::to_string(value); }

// `a * b`, or false when it overflows 64 bits.
bool multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& product) {
  return !__builtin_mul_overflow(a, b, &product);
}

// A token of the file for a message: quoted and cut (DataError escapes control bytes).
std::string quoted(std::string_view text) {
  if (text.empty()) return "nothing";
  constexpr std::size_t kShown = 32;
  if (text.size() <= kShown) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kShown)) + "...'";
}

// "60000 × 28 × 28" for messages on the data.
std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string text;
  for (const std::uint64_t size : shape) text += (text.empty() ? "" : " × ") + str(size);
  return text;
}

// "(3, 1, 2)" or "(3,)", as the .npy header writes a shape.
std::string tuple_text(const std::vector<std::uint64_t>& shape) {
  std::string text;
  for (const std::uint64_t size : shape) text += (text.empty() ? "" : ", ") + str(size);
  return "(" + text + (shape.size() == 1 ? ",)" : ")");
}

// ---------------------------------------------------------------------------------------
// Input: a regular file, read through zlib so that gzip-compressed files (magic 1f 8b) are
// decompressed and others read as they are.

class Input {
 public:
  explicit Input(const std::string& path) : path_(path) {
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
  ~Input() { ::gzclose(file_); }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t offset() const { return offset_; }
  bool compressed() const { return compressed_; }
  std::string where(std::uint64_t offset) const {
    return "offset " + str(offset) + (compressed_ ? " (decompressed)" : "");
  }

  // Reads up to `size` bytes; fewer only at the end of the data.
  std::size_t read(char* out, std::size_t size) {
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

 private:
  // A short read is the end of the data unless zlib reports a broken stream.
  void check_stream() const {
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

  std::string path_;
  gzFile file_ = nullptr;
  bool compressed_ = false;
  std::uint64_t offset_ = 0;
};

// Exactly `size` bytes (a small header part), or an error where the file ends.
std::string read_exact(Input& in, std::size_t size, const std::string& expected) {
  std::string bytes(size, '\0');
  if (in.read(bytes.data(), size) < size)
    throw DataError(in.path(), in.where(in.offset()), expected + "; the file ends here");
  return bytes;
}

// The `size` bytes of data a header promised, and then the end of the file. The buffer grows
// with the data actually read, so a header that lies about the size allocates nothing.
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

// The sizeof(T) bytes at `bytes`, in the given byte order, as T.
template <typename T>
T load(const unsigned char* bytes, bool big_endian) {
  using Bits = std::conditional_t<
      sizeof(T) == 1, std::uint8_t,
      std::conditional_t<sizeof(T) == 2, std::uint16_t,
                         std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
  Bits bits = 0;
  for (std::size_t k = 0; k < sizeof(T); ++k) {
    const std::size_t from = big_endian ? k : sizeof(T) - 1 - k;
    bits = static_cast<Bits>((static_cast<std::uint64_t>(bits) << 8) | bytes[from]);
  }
  return std::bit_cast<T>(bits);
}

// A binary array as read: raw bytes, element type and where the data starts in the file.
struct RawArray {
  std::string path;
  bool compressed = false;
  bool big_endian = false;
  std::uint64_t data_offset = 0;
  std::vector<std::uint64_t> shape;
  std::vector<unsigned char> data;
};

[[noreturn]] void bad_element(const RawArray& array, std::size_t element, std::size_t size,
                              const std::string& expected) {
  const std::uint64_t offset = array.data_offset + element * size;
  throw DataError(array.path, "offset " + str(offset) + (array.compressed ? " (decompressed)" : ""),
                  expected + " (element " + str(element) + ")");
}

// Converts every element of `array` (of type T) into `out`, refusing NaN, infinities and
// values Out cannot hold (a double beyond float range, an integer label beyond 2^53).
template <typename T, typename Out>
void convert(const RawArray& array, Out* out) {
  const std::size_t count = array.data.size() / sizeof(T);
  for (std::size_t i = 0; i < count; ++i) {
    const T value = load<T>(array.data.data() + i * sizeof(T), array.big_endian);
    const auto converted = static_cast<Out>(value);
    bool fits = true;
    if constexpr (std::is_floating_point_v<T>)
      fits = std::isfinite(value) && std::isfinite(converted);
    else if constexpr (sizeof(T) == 8)
      fits = value <= (std::int64_t{1} << 53) && value >= -(std::int64_t{1} << 53);
    if (!fits)
      bad_element(array, i, sizeof(T),
                  !std::is_floating_point_v<T> ? "an integer of magnitude at most 2^53"
                  : std::is_same_v<Out, float> ? "a finite number within float range"
                                               : "a finite number");
    out[i] = converted;
  }
}

// Element types by a format's code: size, name for messages, and a converter for each
// destination (features are float, labels double).
struct ElementType {
  std::string_view code;
  std::size_t size;
  std::string_view name;
  void (*to_float)(const RawArray&, float*);
  void (*to_double)(const RawArray&, double*);
};

template <typename T>
constexpr ElementType element(std::string_view code, std::string_view name) {
  return {code, sizeof(T), name, &convert<T, float>, &convert<T, double>};
}

// ---------------------------------------------------------------------------------------
// IDX: a magic number 00 00 TT DD (TT the element type, DD the number of dimensions), DD
// big-endian 32-bit sizes, then the elements, big-endian, in C order.

const ElementType kIdxTypes[] = {element<std::uint8_t>("\x08", "unsigned bytes"),
                                 element<std::int8_t>("\x09", "signed bytes"),
                                 element<std::int16_t>("\x0B", "16-bit integers"),
                                 element<std::int32_t>("\x0C", "32-bit integers"),
                                 element<float>("\x0D", "32-bit floats"),
                                 element<double>("\x0E", "64-bit floats")};

struct IdxArray {
  RawArray raw;
  const ElementType* type = nullptr;
};

const ElementType& idx_type(Input& in, const std::string& magic, bool labels) {
  const std::string kind = labels ? "0x00000801 for labels" : "0x00000803 for images";
  if (magic[0] != 0 || magic[1] != 0)
    throw DataError(in.path(), in.where(0),
                    "an IDX magic number, which starts with two zero bytes (" + kind + ")");
  for (const ElementType& type : kIdxTypes)
    if (type.code[0] == magic[2]) return type;
  throw DataError(in.path(), in.where(2),
                  "an IDX type code: 0x08 (unsigned bytes), 0x09, 0x0B, 0x0C, 0x0D or 0x0E");
}

// The dimensions after the magic number; their product is checked against the caps.
std::vector<std::uint64_t> idx_shape(Input& in, int rank, std::size_t element_size) {
  std::vector<std::uint64_t> shape;
  std::uint64_t values = 1;
  for (int k = 0; k < rank; ++k) {
    const std::uint64_t at = in.offset();
    const std::string bytes = read_exact(in, 4,
                                         "the size of dimension " + std::to_string(k + 1) + " of " +
                                             std::to_string(rank) + " (4 bytes, big-endian)");
    const std::uint64_t size = load<std::uint32_t>(
        reinterpret_cast<const unsigned char*>(bytes.data()), /*big_endian=*/true);
    if (size == 0)
      throw DataError(in.path(), in.where(at),
                      "a size of at least 1 for dimension " + std::to_string(k + 1));
    if (!multiply(values, size, values) || values > kMaxValues ||
        values * element_size > kMaxFileBytes)
      throw DataError(in.path(), in.where(at),
                      "at most 2^31 values and 4 GiB in all (dimension " + std::to_string(k + 1) +
                          " of size " + str(size) + " exceeds that)");
    shape.push_back(size);
  }
  return shape;
}

IdxArray read_idx_file(const std::string& path, bool labels) {
  Input in(path);
  const std::string magic =
      read_exact(in, 4,
                 std::string("a 4-byte IDX magic number (") +
                     (labels ? "0x00000801 for labels" : "0x00000803 for images") + ")");
  IdxArray array;
  array.type = &idx_type(in, magic, labels);
  const int rank = static_cast<unsigned char>(magic[3]);
  if (labels ? rank != 1 : rank == 0)
    throw DataError(path, in.where(3),
                    labels
                        ? "1 dimension for labels (magic 0x00000801), found " + std::to_string(rank)
                        : std::string("at least 1 dimension (magic 0x00000803 for images)"));
  array.raw.path = path;
  array.raw.compressed = in.compressed();
  array.raw.big_endian = true;
  array.raw.shape = idx_shape(in, rank, array.type->size);
  array.raw.data_offset = in.offset();
  std::uint64_t values = 1;
  for (const std::uint64_t size : array.raw.shape) values *= size;  // checked in idx_shape
  array.raw.data = read_payload(in, values * array.type->size,
                                shape_text(array.raw.shape) + " " + std::string(array.type->name));
  return array;
}

// ---------------------------------------------------------------------------------------
// .npy: "\x93NUMPY", version, header length, a Python dict literal describing the array
// (e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }), then the elements.

const ElementType kNpyTypes[] = {
    element<float>("<f4", "float32"), element<double>("<f8", "float64"),
    element<std::uint8_t>("|u1", "uint8"), element<std::int32_t>("<i4", "int32"),
    element<std::int64_t>("<i8", "int64")};
constexpr std::size_t kNpyFeatureTypes = 3;  // the first three; labels take all five

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
  std::uint64_t descr_at = 0, fortran_at = 0, shape_at = 0;  // file offsets, for messages
};

// Just the three keys numpy writes, not a Python parser: anything else is refused.
class NpyHeaderParser {
 public:
  NpyHeaderParser(const Input& in, std::string_view text, std::uint64_t base)
      : in_(in), text_(text), base_(base) {}

  NpyHeader parse() {
    skip_space();
    expect('{', "'{' starting the header dictionary");
    bool descr = false, fortran = false, shape = false;
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::size_t key_at = pos_;
      const std::string key = string_literal("a key in quotes");
      skip_space();
      expect(':', "':' after the key");
      skip_space();
      if (key != "descr" && key != "fortran_order" && key != "shape")
        fail(key_at, "only the keys 'descr', 'fortran_order' and 'shape', found " + quoted(key));
      bool& seen = key == "descr" ? descr : key == "fortran_order" ? fortran : shape;
      if (seen) fail(key_at, "each key once, found " + quoted(key) + " again");
      seen = true;
      parse_value(key);
      skip_space();
      if (peek() != ',') break;
      ++pos_;
    }
    expect('}', "',' or '}' in the header dictionary");
    skip_space();
    if (pos_ != text_.size()) fail(pos_, "only spaces and a newline after the header dictionary");
    if (!descr || !fortran || !shape)
      fail(0, std::string("the key '") +
                  (!descr     ? "descr"
                   : !fortran ? "fortran_order"
                              : "shape") +
                  "' in the header dictionary");
    return header_;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && std::strchr(" \t\r\n", text_[pos_]) != nullptr) ++pos_;
  }
  [[noreturn]] void fail(std::size_t at, const std::string& expected) const {
    throw DataError(in_.path(), in_.where(base_ + at), expected);
  }
  void expect(char c, const char* expected) {
    if (peek() != c) fail(pos_, expected);
    ++pos_;
  }

  void parse_value(const std::string& key) {
    if (key == "descr") {
      header_.descr_at = base_ + pos_;
      header_.descr = string_literal("a dtype string such as '<f4'");
    } else if (key == "fortran_order") {
      header_.fortran_at = base_ + pos_;
      header_.fortran_order = boolean();
    } else {
      header_.shape_at = base_ + pos_;
      header_.shape = tuple();
    }
  }

  std::string string_literal(const char* expected) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(pos_, expected);
    const std::size_t end = text_.find_first_of(std::string{quote, '\\', '\n'}, pos_ + 1);
    if (end == text_.npos || text_[end] != quote)
      fail(end == text_.npos ? text_.size() : end, "a closing quote (no escapes or line breaks)");
    std::string content(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return content;
  }

  bool boolean() {
    for (const std::string_view word : {"False", "True"})
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return word == "True";
      }
    fail(pos_, "False or True");
  }

  std::vector<std::uint64_t> tuple() {
    expect('(', "a tuple of sizes such as (60000, 784)");
    std::vector<std::uint64_t> sizes;
    bool comma = false;
    for (skip_space(); peek() != ')'; skip_space()) {
      const std::size_t start = pos_;
      std::uint64_t size = 0;
      const auto [end, error] =
          std::from_chars(text_.data() + pos_, text_.data() + text_.size(), size);
      if (error != std::errc() || !std::isdigit(static_cast<unsigned char>(peek())))
        fail(start, "a size (a non-negative integer below 2^64) or ')'");
      pos_ = static_cast<std::size_t>(end - text_.data());
      if (peek() == 'L') ++pos_;  // Python 2 wrote 3L
      sizes.push_back(size);
      skip_space();
      comma = peek() == ',';
      if (comma)
        ++pos_;
      else if (peek() != ')')
        fail(pos_, "',' or ')' in the shape");
    }
    if (sizes.size() == 1 && !comma) fail(pos_, "',' before ')': a 1-tuple is written (N,)");
    ++pos_;
    return sizes;
  }

  const Input& in_;
  std::string_view text_;
  std::uint64_t base_;
  std::size_t pos_ = 0;
  NpyHeader header_;
};

NpyHeader read_npy_header(Input& in) {
  const std::string prefix =
      read_exact(in, 8, "the NumPy magic string \\x93NUMPY and a format version");
  if (prefix.compare(0, 6, "\x93NUMPY") != 0)
    throw DataError(in.path(), in.where(0), "the NumPy magic string \\x93NUMPY");
  const int major = static_cast<unsigned char>(prefix[6]);
  const int minor = static_cast<unsigned char>(prefix[7]);
  if (major < 1 || major > 3 || minor != 0)
    throw DataError(in.path(), in.where(6),
                    "format version 1.0, 2.0 or 3.0, found " + std::to_string(major) + "." +
                        std::to_string(minor));
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::string length_text = read_exact(
      in, length_bytes, "the header length (" + std::to_string(length_bytes) + " bytes)");
  std::uint64_t length = 0;
  for (std::size_t k = length_bytes; k-- > 0;)
    length = (length << 8) | static_cast<unsigned char>(length_text[k]);
  constexpr std::uint64_t kMaxHeader = 1 << 20;
  if (length > kMaxHeader)
    throw DataError(in.path(), in.where(8),
                    "a header length of at most 1 MiB, found " + str(length) + " bytes");
  const std::uint64_t base = in.offset();
  const std::string text =
      read_exact(in, length, "a header of " + str(length) + " bytes from offset " + str(base));
  return NpyHeaderParser(in, text, base).parse();
}

// The dtype, order and shape of a features (N, d) or labels (N,) / (N, 1) array.
const ElementType& check_npy_header(const Input& in, const NpyHeader& header, bool labels) {
  const std::size_t allowed = labels ? std::size(kNpyTypes) : kNpyFeatureTypes;
  const ElementType* type = nullptr;
  for (std::size_t k = 0; k < allowed; ++k)
    if (kNpyTypes[k].code == header.descr) type = &kNpyTypes[k];
  if (type == nullptr)
    throw DataError(in.path(), in.where(header.descr_at),
                    std::string(labels ? "the dtype '<f4', '<f8', '|u1', '<i4' or '<i8'"
                                       : "the dtype '<f4', '<f8' or '|u1'") +
                        ", found " + quoted(header.descr));
  if (header.fortran_order)
    throw DataError(in.path(), in.where(header.fortran_at),
                    "'fortran_order': False (C order; save with np.ascontiguousarray)");
  const auto& shape = header.shape;
  const bool fits =
      labels ? shape.size() == 1 || (shape.size() == 2 && shape[1] == 1) : shape.size() == 2;
  if (!fits || std::find(shape.begin(), shape.end(), std::uint64_t{0}) != shape.end())
    throw DataError(in.path(), in.where(header.shape_at),
                    std::string(labels ? "a shape (N,) or (N, 1)" : "a shape (N, d)") +
                        " with sizes of at least 1, found " + tuple_text(shape));
  std::uint64_t values = 1, bytes = 0;
  for (const std::uint64_t size : shape)
    if (!multiply(values, size, values)) values = kMaxValues + 1;
  if (values > kMaxValues || !multiply(values, type->size, bytes) || bytes > kMaxFileBytes)
    throw DataError(in.path(), in.where(header.shape_at),
                    "at most 2^31 values and 4 GiB of data, found " + tuple_text(shape));
  return *type;
}

struct NpyArray {
  RawArray raw;
  const ElementType* type = nullptr;
  std::uint64_t shape_at = 0;
};

NpyArray read_npy_file(const std::string& path, bool labels) {
  Input in(path);
  const NpyHeader header = read_npy_header(in);
  NpyArray array;
  array.type = &check_npy_header(in, header, labels);
  array.shape_at = header.shape_at;
  array.raw.path = path;
  array.raw.compressed = in.compressed();
  array.raw.shape = header.shape;
  array.raw.data_offset = in.offset();
  std::uint64_t values = 1;
  for (const std::uint64_t size : header.shape) values *= size;  // checked above
  array.raw.data = read_payload(in, values * array.type->size,
                                shape_text(header.shape) + " " + std::string(array.type->name));
  return array;
}

// ---------------------------------------------------------------------------------------
// Text: lines, tokens and numbers, with line and column for messages.

class LineReader {
 public:
  explicit LineReader(Input& in) : in_(in) {}

  // The next line without "\n" or "\r\n" (and without a UTF-8 byte-order mark on line 1);
  // false at the end of the file. The view lives until the next call.
  bool next(std::string_view& line) {
    while (true) {
      const std::size_t newline = buffer_.find('\n', start_ + scanned_);
      if (newline != buffer_.npos || end_) {
        if (newline == buffer_.npos && start_ == buffer_.size()) return false;
        const std::size_t stop = newline == buffer_.npos ? buffer_.size() : newline;
        line = std::string_view(buffer_).substr(start_, stop - start_);
        start_ = newline == buffer_.npos ? stop : stop + 1;
        scanned_ = 0;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (++number_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
        return true;
      }
      refill();
    }
  }
  std::int64_t number() const { return number_; }

 private:
  void refill() {
    buffer_.erase(0, start_);
    start_ = 0;
    scanned_ = buffer_.size();
    // Reads as much as is buffered: a very long line costs linear time, not quadratic.
    const std::size_t want = std::max(kChunk, buffer_.size());
    buffer_.resize(scanned_ + want);
    const std::size_t got = in_.read(buffer_.data() + scanned_, want);
    buffer_.resize(scanned_ + got);
    end_ = got < want;
  }

  Input& in_;
  std::string buffer_;
  std::size_t start_ = 0;    // the next line's first byte in buffer_
  std::size_t scanned_ = 0;  // bytes after start_ known to hold no '\n'
  bool end_ = false;
  std::int64_t number_ = 0;
};

// Where in a text file: the file, the line, and a hint added to "not a number" errors.
struct TextSpot {
  const std::string& path;
  std::int64_t line;
  std::string_view hint;
};

[[noreturn]] void fail_at(const TextSpot& spot, std::size_t column, const std::string& expected) {
  throw DataError(spot.path,
                  "line " + std::to_string(spot.line) + ", column " + std::to_string(column),
                  expected);
}

// from_chars reports a value too small for a double (1e-400) as it does one too large; the
// small one reads as zero, as numpy and pandas read it.
bool underflows(std::string_view digits) {
  const std::size_t exponent = digits.find_first_of("eE");
  if (exponent != digits.npos) return exponent + 1 < digits.size() && digits[exponent + 1] == '-';
  return digits.substr(0, digits.find('.')).find_first_not_of("+-0") == digits.npos;
}

// All of `text` as a number, or a DataError naming `what` (e.g. "the label").
double finite_number(std::string_view text, const TextSpot& spot, std::size_t column,
                     const std::string& what) {
  std::string_view digits = text;
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-') digits.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error == std::errc::result_out_of_range && end == digits.data() + digits.size() &&
      underflows(digits))
    return digits[0] == '-' ? -0.0 : 0.0;
  if (error == std::errc::result_out_of_range)
    fail_at(spot, column, "a number within double range (" + what + "), found " + quoted(text));
  if (error != std::errc() || end != digits.data() + digits.size())
    fail_at(spot, column,
            "a finite number (" + what + "), found " + quoted(text) + std::string(spot.hint));
  if (!std::isfinite(value))
    fail_at(spot, column, "a finite number (" + what + "), found " + quoted(text));
  return value;
}

float float_number(std::string_view text, const TextSpot& spot, std::size_t column,
                   const std::string& what) {
  const double value = finite_number(text, spot, column, what);
  if (std::abs(value) > std::numeric_limits<float>::max())
    fail_at(spot, column,
            "a number within float range, |x| <= 3.4e38 (" + what + "), found " + quoted(text));
  return static_cast<float>(value);
}

struct Token {
  std::string_view text;
  std::size_t column;  // 1-based
};

// The tokens of `line` separated by spaces and tabs.
std::vector<Token> tokens(std::string_view line) {
  std::vector<Token> out;
  std::size_t pos = 0;
  while (true) {
    pos = line.find_first_not_of(" \t", pos);
    if (pos == line.npos) return out;
    const std::size_t end = std::min(line.find_first_of(" \t", pos), line.size());
    out.push_back({line.substr(pos, end - pos), pos + 1});
    pos = end;
  }
}

// ---------------------------------------------------------------------------------------
// LIBSVM

struct SparseRows {
  std::vector<double> labels;
  std::vector<std::size_t> row_end;  // one past each row's last entry
  std::vector<std::int32_t> index;   // 1-based
  std::vector<float> value;
  std::int64_t max_index = 0;
  std::string max_index_at;  // "line L, column C", for the dense-size check
};

std::int64_t libsvm_index(std::string_view text, const TextSpot& spot, std::size_t column,
                          std::int64_t previous, std::int64_t num_features) {
  constexpr std::int64_t kMaxIndex = std::numeric_limits<std::int32_t>::max();
  std::int64_t index = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), index);
  const bool digits = !text.empty() && std::isdigit(static_cast<unsigned char>(text[0]));
  if (!digits || (error != std::errc() && error != std::errc::result_out_of_range) ||
      end != text.data() + text.size())
    fail_at(spot, column, "index:value with a positive integer index, found " + quoted(text));
  if (error == std::errc::result_out_of_range || index > kMaxIndex)
    fail_at(spot, column, "an index of at most 2147483647, found " + quoted(text));
  if (index == 0) fail_at(spot, column, "an index of at least 1 (indices are 1-based), found 0");
  if (index <= previous)
    fail_at(spot, column,
            "an index greater than " + std::to_string(previous) +
                " (indices increase within a line), found " + std::to_string(index));
  if (num_features > 0 && index > num_features)
    fail_at(spot, column,
            "an index of at most num_features = " + std::to_string(num_features) + ", found " +
                std::to_string(index));
  return index;
}

void libsvm_line(std::string_view line, const TextSpot& spot, std::int64_t num_features,
                 SparseRows& rows) {
  line = line.substr(0, line.find('#'));
  const std::vector<Token> parts = tokens(line);
  if (parts.empty()) return;
  rows.labels.push_back(finite_number(parts[0].text, spot, parts[0].column, "the label"));
  std::int64_t previous = 0;
  for (std::size_t k = 1; k < parts.size(); ++k) {
    const Token& token = parts[k];
    const std::size_t colon = token.text.find(':');
    const std::int64_t index =
        libsvm_index(token.text.substr(0, colon == token.text.npos ? token.text.size() : colon),
                     spot, token.column, previous, num_features);
    if (colon == token.text.npos)
      fail_at(spot, token.column + token.text.size(), "':' and a value after the index");
    rows.value.push_back(float_number(token.text.substr(colon + 1), spot, token.column + colon + 1,
                                      "the value of index " + std::to_string(index)));
    rows.index.push_back(static_cast<std::int32_t>(index));
    previous = index;
  }
  if (previous > rows.max_index) {
    rows.max_index = previous;
    rows.max_index_at =
        "line " + std::to_string(spot.line) + ", column " + std::to_string(parts.back().column);
  }
  rows.row_end.push_back(rows.index.size());
}

// Sparse text names d without paying for it: "1 2000000000:1" would ask for 8 GB of zeros.
// Unless the caller vouches for d (num_features), the dense matrix must be in proportion to
// the file: at most 2^24 values, or 1024 per byte read (real sparse sets such as rcv1, with
// density 1.6e-3, need about 80).
void check_dense_size(const std::string& path, const SparseRows& rows, std::uint64_t values,
                      std::uint64_t file_bytes) {
  constexpr std::uint64_t kPerByte = 1024;
  const std::uint64_t budget =
      std::max<std::uint64_t>(std::uint64_t{1} << 24, kPerByte * file_bytes);
  if (values > budget)
    throw DataError(path, rows.max_index_at,
                    "an index for which samples × features is at most 2^24 or 1024 per byte of "
                    "the file (" +
                        str(file_bytes) + " bytes) unless num_features is given, found " +
                        std::to_string(rows.max_index) + " (" + str(rows.labels.size()) +
                        " samples)");
}

Dataset dense(const std::string& path, SparseRows& rows, std::int64_t num_features,
              std::uint64_t file_bytes) {
  const std::uint64_t samples = rows.labels.size();
  const std::int64_t features = num_features > 0 ? num_features : rows.max_index;
  if (samples == 0) throw DataError(path, "", "at least one sample (a line with a label)");
  if (features == 0)
    throw DataError(path, "", "at least one feature (an index:value pair), or num_features > 0");
  std::uint64_t values = 0;
  if (!multiply(samples, static_cast<std::uint64_t>(features), values))
    values = std::numeric_limits<std::uint64_t>::max();
  if (num_features == 0) check_dense_size(path, rows, values, file_bytes);
  if (values > kMaxValues)
    throw DataError(path, "",
                    "at most 2^31 feature values, found " + str(samples) + " samples × " +
                        std::to_string(features) + " features");
  Dataset dataset;
  dataset.source = path;
  dataset.features.setZero(static_cast<Eigen::Index>(samples), features);
  std::size_t entry = 0;
  for (std::size_t row = 0; row < samples; ++row)
    for (; entry < rows.row_end[row]; ++entry)
      dataset.features(static_cast<Eigen::Index>(row), rows.index[entry] - 1) = rows.value[entry];
  dataset.labels = std::move(rows.labels);
  return dataset;
}

// ---------------------------------------------------------------------------------------
// CSV

struct CsvTable {
  std::size_t fields = 0;  // per line, set by the first data line
  std::int64_t first_line = 0;
  std::size_t label_field = 0;
  std::vector<float> features;
  std::vector<double> labels;
};

// The first data line fixes the number of fields and which one is the label.
void csv_shape(std::size_t fields, int label_column, const TextSpot& spot, CsvTable& table) {
  if (fields < 2) fail_at(spot, 1, "at least 2 fields (features and a label), found 1");
  const auto count = static_cast<std::int64_t>(fields);
  const std::int64_t label = label_column < 0 ? count + label_column : label_column;
  if (label < 0 || label >= count)
    fail_at(spot, 1,
            "a label column from " + std::to_string(-count) + " to " + std::to_string(count - 1) +
                " for " + str(fields) +
                " fields, found label_column = " + std::to_string(label_column));
  table.fields = fields;
  table.first_line = spot.line;
  table.label_field = static_cast<std::size_t>(label);
}

void csv_line(std::string_view line, const TextSpot& spot, int label_column, CsvTable& table) {
  if (line.find_first_not_of(" \t") == line.npos) return;
  if (table.fields == 0)
    csv_shape(static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1, label_column,
              spot, table);
  const std::string shape = str(table.fields) + " fields like line " +
                            std::to_string(table.first_line) + " (the first data line)";
  std::size_t start = 0, field = 0;
  for (; start <= line.size(); ++field) {
    const std::size_t stop = std::min(line.find(',', start), line.size());
    if (field == table.fields) fail_at(spot, start + 1, shape + ", found more");
    std::string_view text = line.substr(start, stop - start);
    const std::size_t skip = std::min(text.find_first_not_of(" \t"), text.size());
    text.remove_prefix(skip);
    text = text.substr(0, text.find_last_not_of(" \t") + 1);
    const std::size_t column = start + skip + 1;
    const std::string what = "field " + str(field + 1);
    if (field == table.label_field)
      table.labels.push_back(finite_number(text, spot, column, what + ", the label"));
    else
      table.features.push_back(float_number(text, spot, column, what));
    start = stop + 1;
  }
  if (field < table.fields) fail_at(spot, line.size() + 1, shape + ", found " + str(field));
}

}  // namespace

// ---------------------------------------------------------------------------------------

Dataset read_idx(const std::string& images_path, const std::string& labels_path) {
  const IdxArray images = read_idx_file(images_path, false);
  const IdxArray labels = read_idx_file(labels_path, true);
  const std::uint64_t samples = images.raw.shape[0];
  if (labels.raw.shape[0] != samples)
    throw DataError(labels_path,
                    std::string("offset 4") + (labels.raw.compressed ? " (decompressed)" : ""),
                    str(samples) + " labels, one per image in " + images_path + ", found " +
                        str(labels.raw.shape[0]));
  Dataset dataset;
  dataset.source = images_path + ", " + labels_path;
  const auto rows = static_cast<Eigen::Index>(samples);
  dataset.features.resize(
      rows, static_cast<Eigen::Index>(images.raw.data.size() / images.type->size) / rows);
  images.type->to_float(images.raw, dataset.features.data());
  dataset.labels.resize(samples);
  labels.type->to_double(labels.raw, dataset.labels.data());
  return dataset;
}

Dataset read_npy(const std::string& features_path, const std::string& labels_path) {
  const NpyArray features = read_npy_file(features_path, false);
  const NpyArray labels = read_npy_file(labels_path, true);
  const std::uint64_t samples = features.raw.shape[0];
  if (labels.raw.shape[0] != samples)
    throw DataError(
        labels_path,
        "offset " + str(labels.shape_at) + (labels.raw.compressed ? " (decompressed)" : ""),
        str(samples) + " labels, one per row of " + features_path + ", found " +
            str(labels.raw.shape[0]));
  Dataset dataset;
  dataset.source = features_path + ", " + labels_path;
  dataset.features.resize(static_cast<Eigen::Index>(samples),
                          static_cast<Eigen::Index>(features.raw.shape[1]));
  features.type->to_float(features.raw, dataset.features.data());
  dataset.labels.resize(samples);
  labels.type->to_double(labels.raw, dataset.labels.data());
  return dataset;
}

Dataset read_libsvm(const std::string& path, std::int64_t num_features) {
  if (num_features < 0)
    throw std::invalid_argument("read_libsvm: num_features must be >= 0 (0: the largest index)");
  Input in(path);
  LineReader reader(in);
  SparseRows rows;
  std::string_view line;
  while (reader.next(line)) libsvm_line(line, {path, reader.number(), ""}, num_features, rows);
  return dense(path, rows, num_features, in.offset());
}

Dataset read_csv(const std::string& path, int label_column, bool header) {
  Input in(path);
  LineReader reader(in);
  CsvTable table;
  std::string_view line;
  if (header && !reader.next(line))
    throw DataError(path, "", "a header line (header = true), found an empty file");
  while (reader.next(line)) {
    const bool first = table.fields == 0 && !header;
    csv_line(
        line,
        {path, reader.number(), first ? "; if this line is a header, read with header = true" : ""},
        label_column, table);
  }
  if (table.labels.empty())
    throw DataError(path, "",
                    header ? "at least one data line after the header" : "at least one data line");
  Dataset dataset;
  dataset.source = path;
  const auto rows = static_cast<Eigen::Index>(table.labels.size());
  dataset.features = Eigen::Map<const FeatureMatrix>(table.features.data(), rows,
                                                     static_cast<Eigen::Index>(table.fields - 1));
  dataset.labels = std::move(table.labels);
  return dataset;
}

}  // namespace istlab
