// The binary readers of readers.hpp: IDX and NumPy .npy.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "istlab/data/input.hpp"
#include "istlab/data/readers.hpp"

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

// A binary array as read: raw bytes, element type and where the data starts in the file.
struct RawArray {
  std::string path;
  bool compressed = false;
  bool big_endian = false;
  std::uint64_t data_offset = 0;
  std::vector<std::uint64_t> shape;
  std::vector<unsigned char> data;
};

// Hands the features array's shape to `check` before its `payload` bytes are read: N the
// first dimension, d the product of the others; the labels' raw bytes are at most 8 a sample.
void check_shape(const ShapeCheck& check, const RawArray& features, std::uint64_t payload) {
  if (!check) return;
  std::uint64_t per_sample = 1;
  for (std::size_t k = 1; k < features.shape.size(); ++k) per_sample *= features.shape[k];
  check(
      {features.path, features.shape[0], per_sample, payload + features.shape[0] * sizeof(double)});
}

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

// `check` (null for the labels file) sees the images' shape before their data is read.
IdxArray read_idx_file(const std::string& path, bool labels, const ShapeCheck* check) {
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
  if (check != nullptr) check_shape(*check, array.raw, values * array.type->size);
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

// `check` (null for the labels file) sees the features' shape before their data is read.
NpyArray read_npy_file(const std::string& path, bool labels, const ShapeCheck* check) {
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
  if (check != nullptr) check_shape(*check, array.raw, values * array.type->size);
  array.raw.data = read_payload(in, values * array.type->size,
                                shape_text(header.shape) + " " + std::string(array.type->name));
  return array;
}

}  // namespace

// ---------------------------------------------------------------------------------------

Dataset read_idx(const std::string& images_path, const std::string& labels_path,
                 const ShapeCheck& check) {
  const IdxArray images = read_idx_file(images_path, false, &check);
  const IdxArray labels = read_idx_file(labels_path, true, nullptr);
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

Dataset read_npy(const std::string& features_path, const std::string& labels_path,
                 const ShapeCheck& check) {
  const NpyArray features = read_npy_file(features_path, false, &check);
  const NpyArray labels = read_npy_file(labels_path, true, nullptr);
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
}  // namespace istlab
