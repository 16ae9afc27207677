// The binary readers of readers.hpp: IDX and NumPy .npy.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "istlab/data/input.hpp"
#include "istlab/data/readers.hpp"
#include "istlab/io/memory.hpp"

namespace istlab {
namespace {

using namespace reading;

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

// Where a binary array's elements are in its file and how they are stored.
struct RawArray {
  std::string path;
  bool compressed = false;
  bool big_endian = false;
  std::uint64_t data_offset = 0;
  std::vector<std::uint64_t> shape;
};

[[noreturn]] void bad_element(const RawArray& array, std::size_t element, std::size_t size,
                              const std::string& expected) {
  const std::uint64_t offset = array.data_offset + element * size;
  throw DataError(array.path, "offset " + str(offset) + (array.compressed ? " (decompressed)" : ""),
                  expected + " (element " + str(element) + ")");
}

// The index of the first NaN or infinity among `count` values, or `count`: each block is
// tested without a branch (an exponent of all ones), so that the compiler vectorises it.
template <typename F>
std::size_t first_non_finite(const F* values, std::size_t count) {
  using Bits = std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits kExponent = static_cast<Bits>(sizeof(F) == 4 ? 0x7f800000 : 0x7ff0000000000000);
  constexpr std::size_t kBlock = 1024;
  for (std::size_t start = 0; start < count; start += kBlock) {
    const std::size_t end = std::min(count, start + kBlock);
    unsigned found = 0;
    for (std::size_t i = start; i < end; ++i) {
      Bits bits;
      std::memcpy(&bits, values + i, sizeof(Bits));
      found |= static_cast<unsigned>((bits & kExponent) == kExponent);
    }
    if (found != 0)
      for (std::size_t i = start; i < end; ++i)
        if (!std::isfinite(values[i])) return i;
  }
  return count;
}

// Whether the elements of T at `bytes`, in the given byte order, already are `out`'s values:
// the reader read them straight into their final storage.
template <typename T, typename Out>
bool stored_as_read(const unsigned char* bytes, bool big_endian, const Out* out) {
  return std::is_same_v<T, Out> && big_endian == (std::endian::native == std::endian::big) &&
         static_cast<const void*>(bytes) == static_cast<const void*>(out);
}

// Converts `count` elements of T at `bytes` into `out` (which may be where `bytes` are when T
// is Out) and returns the index of the first that Out cannot hold (NaN, an infinity, a double
// beyond float range, an integer label beyond 2^53), or `count`.
template <typename T, typename Out>
std::size_t convert(const unsigned char* bytes, std::size_t count, bool big_endian, Out* out) {
  std::size_t first_bad = count;
  if (!stored_as_read<T>(bytes, big_endian, out))
    for (std::size_t i = 0; i < count; ++i) {
      const T value = load<T>(bytes + i * sizeof(T), big_endian);
      if constexpr (std::is_integral_v<T> && sizeof(T) == 8)
        if (first_bad == count &&
            (value > (std::int64_t{1} << 53) || value < -(std::int64_t{1} << 53)))
          first_bad = i;
      out[i] = static_cast<Out>(value);
    }
  // (a converted value is finite exactly when the value was, and within Out's range)
  if constexpr (std::is_floating_point_v<T>) first_bad = first_non_finite(out, count);
  return first_bad;
}

// Element types by a format's code: size, name for messages, and a converter for each
// destination (features are float, labels double).
struct ElementType {
  std::string_view code;
  std::size_t size;
  std::string_view name;
  bool integer;
  std::size_t (*to_float)(const unsigned char*, std::size_t, bool, float*);
  std::size_t (*to_double)(const unsigned char*, std::size_t, bool, double*);

  template <typename Out>
  auto converter() const {
    if constexpr (std::is_same_v<Out, float>)
      return to_float;
    else
      return to_double;
  }
  // What an element that does not fit Out should have been, for messages.
  template <typename Out>
  std::string expected() const {
    if (integer) return "an integer of magnitude at most 2^53";
    return std::is_same_v<Out, float> ? "a finite number within float range" : "a finite number";
  }
};

template <typename T>
constexpr ElementType element(std::string_view code, std::string_view name) {
  return {code, sizeof(T), name, std::is_integral_v<T>, &convert<T, float>, &convert<T, double>};
}

// Whether a plain file's elements of `type` are read straight into their storage of Out
// values: they already are such values (float32 features, float64 labels).
template <typename Out>
bool read_straight(const ElementType& type) {
  return type.size == sizeof(Out) && !type.integer;
}

// What a reader holds besides the dataset while it reads the features: a compressed file's
// bytes (their size shows only as they arrive), else one chunk unless it reads them straight;
// and the labels' raw bytes, at most 8 a sample.
std::uint64_t reading_bytes(const RawArray& features, const ElementType& type,
                            std::uint64_t payload) {
  const std::uint64_t held = features.compressed ? payload
                             : read_straight<float>(type)
                                 ? 0
                                 : std::min<std::uint64_t>(kChunk, payload);
  return held + features.shape[0] * sizeof(double);
}

// Hands the features array's shape to `check` before its `payload` bytes are read: N the
// first dimension, d the product of the others.
void check_shape(const ShapeCheck& check, const RawArray& features, const ElementType& type,
                 std::uint64_t payload) {
  if (!check) return;
  std::uint64_t per_sample = 1;
  for (std::size_t k = 1; k < features.shape.size(); ++k) per_sample *= features.shape[k];
  check({features.path, features.shape[0], per_sample, reading_bytes(features, type, payload)});
}

// An array's `count` elements read into `Out` values, and the first element that did not fit
// Out (`count` when all did). Bad values are reported only once both files of a dataset have
// been read (report_bad_element), so that a truncated labels file is named first.
struct ElementsRead {
  std::size_t count = 0;
  std::size_t first_bad = 0;
};

// Converts an array's elements part by part into their storage, remembering the first bad one.
template <typename Out>
struct PartConverter {
  const RawArray& array;
  const ElementType& type;
  ElementsRead read;

  // The `part` elements at `from` into out[first …].
  void operator()(const unsigned char* from, std::size_t first, std::size_t part, Out* out) {
    const std::size_t bad = type.converter<Out>()(from, part, array.big_endian, out + first);
    if (bad < part && read.first_bad == read.count) read.first_bad = first + bad;
  }
};

// A plain file: its size is known, so the storage is allocated first and filled a chunk at a
// time, straight when its elements already are Out values (float32 features, float64 labels),
// else through one chunk; each chunk is converted and checked while it is in cache.
template <typename Out, typename Allocate>
void read_plain(PayloadReader& payload, PartConverter<Out>& convert, Allocate& allocate) {
  const ElementType& type = convert.type;
  const std::size_t count = convert.read.count;
  const std::size_t per_chunk = kChunk / type.size;
  Out* out = allocate(convert.array.shape, count);
  const bool straight = read_straight<Out>(type);
  std::vector<unsigned char> chunk(straight ? 0 : per_chunk * type.size);
  for (std::size_t first = 0; first < count; first += per_chunk) {
    const std::size_t part = std::min(per_chunk, count - first);
    unsigned char* to = straight ? reinterpret_cast<unsigned char*>(out + first) : chunk.data();
    payload.read(to, part * type.size);
    convert(to, first, part, out);
  }
  payload.finish();
}

// A compressed file, whose size is known only once it is inflated: into pieces allocated as the
// data arrives (a header promising more than the file holds gets at most one piece more than
// its data; large pieces, so that they can take huge pages), then converted piece by piece.
template <typename Out, typename Allocate>
void read_compressed(PayloadReader& payload, PartConverter<Out>& convert, Allocate& allocate) {
  constexpr std::size_t kPiece = std::size_t{32} << 20;  // a multiple of every element size
  const std::size_t size = convert.type.size;
  const std::size_t count = convert.read.count;
  const std::size_t per_piece = kPiece / size;
  std::vector<std::unique_ptr<unsigned char[]>> pieces;
  for (std::size_t first = 0; first < count; first += per_piece) {
    const std::size_t bytes = std::min(per_piece, count - first) * size;
    pieces.push_back(std::make_unique_for_overwrite<unsigned char[]>(bytes));
    advise_huge_pages(pieces.back().get(), bytes);
    payload.read(pieces.back().get(), bytes);
  }
  payload.finish();
  Out* out = allocate(convert.array.shape, count);
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    const std::size_t first = k * per_piece;
    convert(pieces[k].get(), first, std::min(per_piece, count - first), out);
    pieces[k].reset();  // (the raw bytes go as their values arrive)
  }
}

// Reads the `count` elements of `type` that `in` holds next into the storage
// `allocate(shape, count)` returns (never zero-filled, never copied).
template <typename Out, typename Allocate>
ElementsRead read_elements(Input& in, const RawArray& array, const ElementType& type,
                           std::uint64_t count, Allocate allocate) {
  // (count × size is at most 4 GiB: checked from the header)
  PayloadReader payload(in, count * type.size,
                        shape_text(array.shape) + " " + std::string(type.name));
  PartConverter<Out> convert{array, type, {count, count}};
  if (array.compressed)
    read_compressed(payload, convert, allocate);
  else
    read_plain(payload, convert, allocate);
  return convert.read;
}

template <typename Out>
void report_bad_element(const RawArray& array, const ElementType& type, const ElementsRead& read) {
  if (read.first_bad < read.count)
    bad_element(array, read.first_bad, type.size, type.expected<Out>());
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
  ElementsRead read;
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

// `check` (null for the labels file) sees the images' shape before their data is read into
// the storage `allocate(shape, count)` returns.
template <typename Out, typename Allocate>
IdxArray read_idx_file(const std::string& path, bool labels, const ShapeCheck* check,
                       Allocate allocate) {
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
  if (check != nullptr) check_shape(*check, array.raw, *array.type, values * array.type->size);
  array.read = read_elements<Out>(in, array.raw, *array.type, values, allocate);
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
  ElementsRead read;
};

// `check` (null for the labels file) sees the features' shape before their data is read into
// the storage `allocate(shape, count)` returns.
template <typename Out, typename Allocate>
NpyArray read_npy_file(const std::string& path, bool labels, const ShapeCheck* check,
                       Allocate allocate) {
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
  if (check != nullptr) check_shape(*check, array.raw, *array.type, values * array.type->size);
  array.read = read_elements<Out>(in, array.raw, *array.type, values, allocate);
  return array;
}

// Storage for the features: the matrix itself, N rows of the other dimensions' product, not
// zero-filled (every value is read into it), in huge pages where the system allows.
auto features_of(Dataset& dataset) {
  return [&dataset](const std::vector<std::uint64_t>& shape, std::size_t count) {
    const auto rows = static_cast<Eigen::Index>(shape[0]);
    dataset.features.resize(rows, static_cast<Eigen::Index>(count) / rows);
    advise_huge_pages(dataset.features.data(), count * sizeof(float));
    return dataset.features.data();
  };
}

auto labels_of(Dataset& dataset) {
  return [&dataset](const std::vector<std::uint64_t>&, std::size_t count) {
    dataset.labels.resize(count);
    return dataset.labels.data();
  };
}

}  // namespace

// ---------------------------------------------------------------------------------------

Dataset read_idx(const std::string& images_path, const std::string& labels_path,
                 const ShapeCheck& check) {
  Dataset dataset;
  const IdxArray images = read_idx_file<float>(images_path, false, &check, features_of(dataset));
  const IdxArray labels = read_idx_file<double>(labels_path, true, nullptr, labels_of(dataset));
  const std::uint64_t samples = images.raw.shape[0];
  if (labels.raw.shape[0] != samples)
    throw DataError(labels_path,
                    std::string("offset 4") + (labels.raw.compressed ? " (decompressed)" : ""),
                    str(samples) + " labels, one per image in " + images_path + ", found " +
                        str(labels.raw.shape[0]));
  report_bad_element<float>(images.raw, *images.type, images.read);
  report_bad_element<double>(labels.raw, *labels.type, labels.read);
  dataset.source = images_path + ", " + labels_path;
  return dataset;
}

Dataset read_npy(const std::string& features_path, const std::string& labels_path,
                 const ShapeCheck& check) {
  Dataset dataset;
  const NpyArray features =
      read_npy_file<float>(features_path, false, &check, features_of(dataset));
  const NpyArray labels = read_npy_file<double>(labels_path, true, nullptr, labels_of(dataset));
  const std::uint64_t samples = features.raw.shape[0];
  if (labels.raw.shape[0] != samples)
    throw DataError(
        labels_path,
        "offset " + str(labels.shape_at) + (labels.raw.compressed ? " (decompressed)" : ""),
        str(samples) + " labels, one per row of " + features_path + ", found " +
            str(labels.raw.shape[0]));
  report_bad_element<float>(features.raw, *features.type, features.read);
  report_bad_element<double>(labels.raw, *labels.type, labels.read);
  dataset.source = features_path + ", " + labels_path;
  return dataset;
}
}  // namespace istlab
