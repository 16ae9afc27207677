// The text readers of readers.hpp: LIBSVM / svmlight and numeric CSV.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "istlab/data/input.hpp"
#include "istlab/data/readers.hpp"

namespace istlab {
namespace {

using namespace reading;

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

// A label: a finite number, and an integer one exact as a double (at most 2^53 in magnitude,
// as .npy labels must be): 9007199254740993 would read as ...992 and merge two classes.
double label_number(std::string_view text, const TextSpot& spot, std::size_t column,
                    const std::string& what) {
  const double value = finite_number(text, spot, column, what);
  std::string_view digits = text;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
  const bool integer = !digits.empty() && digits.find_first_not_of("0123456789") == digits.npos;
  digits.remove_prefix(std::min(digits.find_first_not_of('0'), digits.size()));
  constexpr double kTwoTo53 = 9007199254740992.0;
  if (integer && std::fabs(value) >= kTwoTo53 && digits != "9007199254740992")
    fail_at(spot, column,
            "an integer label of magnitude at most 2^53 = 9007199254740992 (exact as a double; " +
                what + "), found " + quoted(text));
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
// The first pass: a text file's lines counted as its bytes stream past, holding one chunk and
// no line, so that a file of one 4 GiB line is sized before anything of its size is held.

// Hands `scanner` each byte of each line's content with its 1-based column, then the line's
// end with its length, leaving out what LineReader leaves out: a final '\r' of a line and a
// UTF-8 byte-order mark at the start of the file.
template <class Scanner>
void scan_lines(Input& in, Scanner& scanner) {
  std::vector<char> chunk(kChunk);
  std::size_t column = 0;
  bool carriage_return = false;  // a '\r' seen: content unless the line ends right after it
  for (bool first = true;; first = false) {
    const std::size_t got = in.read(chunk.data(), chunk.size());
    std::size_t k =
        first && std::string_view(chunk.data(), got).starts_with("\xEF\xBB\xBF") ? 3 : 0;
    for (; k < got; ++k) {
      const char c = chunk[k];
      if (c == '\n') {
        scanner.end_line(column + (carriage_return ? 1 : 0));
        column = 0;
        carriage_return = false;
        continue;
      }
      if (carriage_return) scanner.byte('\r', ++column);
      carriage_return = c == '\r';
      if (!carriage_return) scanner.byte(c, ++column);
    }
    if (got < chunk.size()) break;
  }
  if (column > 0 || carriage_return) scanner.end_line(column + (carriage_return ? 1 : 0));
}

// LineReader's buffer at its largest: a chunk, and the longest line twice over (the buffer
// doubles until the line fits).
std::uint64_t line_buffer_bytes(std::uint64_t longest_line) {
  return kChunk + 2 * (longest_line + 1);
}

// The second pass found more than the first counted: the file changed in between.
[[noreturn]] void changed_while_read(const TextSpot& spot) {
  throw DataError(spot.path, "line " + std::to_string(spot.line),
                  "the same contents in both passes over the file (it changed while it was read)");
}

// ---------------------------------------------------------------------------------------
// LIBSVM

// The first pass: samples (lines with a token before any '#') and the largest index.
struct LibsvmCount {
  std::uint64_t lines = 0;
  std::uint64_t samples = 0;
  std::uint64_t longest_line = 0;
  std::int64_t max_index = 0;
  std::string max_index_at;  // "line L, column C" of its line's last token, as pass 2 says

  void byte(char c, std::size_t column) {
    if (line_.comment) return;
    if (c == '#' || c == ' ' || c == '\t') {
      end_token();
      line_.comment = c == '#';
      return;
    }
    if (!line_.in_token) start_token(column);
    if (line_.index_done) return;
    if (c == ':') {
      line_.index_done = true;
    } else if (c >= '0' && c <= '9' && line_.index_ok) {
      line_.index = line_.index * 10 + (c - '0');
      line_.digits = true;
      line_.index_ok = line_.index <= std::numeric_limits<std::int32_t>::max();
    } else {
      line_.index_ok = false;
    }
  }

  void end_line(std::size_t length) {
    end_token();
    ++lines;
    longest_line = std::max<std::uint64_t>(longest_line, length);
    if (line_.tokens > 0) ++samples;
    if (line_.max > max_index) {
      max_index = line_.max;
      max_index_at = "line " + std::to_string(lines) + ", column " + std::to_string(line_.column);
    }
    line_ = {};
  }

 private:
  void start_token(std::size_t column) {
    line_.in_token = true;
    ++line_.tokens;
    line_.column = column;
    line_.index = 0;
    line_.digits = line_.index_done = false;
    line_.index_ok = true;
  }
  // An index is the digits before ':' of any token but the line's first (its label).
  void end_token() {
    if (line_.in_token && line_.tokens > 1 && line_.index_ok && line_.digits)
      line_.max = std::max(line_.max, line_.index);
    line_.in_token = false;
  }

  struct Line {
    bool comment = false;
    bool in_token = false;
    std::uint64_t tokens = 0;
    std::size_t column = 0;  // of the last token
    std::int64_t index = 0;  // of the token being read
    bool digits = false;
    bool index_ok = false;
    bool index_done = false;
    std::int64_t max = 0;
  } line_;
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

// One line of the second pass, into the next row of `data` (sized by the first pass).
void libsvm_line(std::string_view line, const TextSpot& spot, std::int64_t num_features,
                 Dataset& data) {
  line = line.substr(0, line.find('#'));
  const std::vector<Token> parts = tokens(line);
  if (parts.empty()) return;
  const auto row = static_cast<Eigen::Index>(data.labels.size());
  if (row >= data.features.rows()) changed_while_read(spot);
  data.labels.push_back(label_number(parts[0].text, spot, parts[0].column, "the label"));
  std::int64_t previous = 0;
  for (std::size_t k = 1; k < parts.size(); ++k) {
    const Token& token = parts[k];
    const std::size_t colon = token.text.find(':');
    const std::int64_t index =
        libsvm_index(token.text.substr(0, colon == token.text.npos ? token.text.size() : colon),
                     spot, token.column, previous, num_features);
    if (colon == token.text.npos)
      fail_at(spot, token.column + token.text.size(), "':' and a value after the index");
    const float value = float_number(token.text.substr(colon + 1), spot, token.column + colon + 1,
                                     "the value of index " + std::to_string(index));
    if (index > data.features.cols()) changed_while_read(spot);
    data.features(row, static_cast<Eigen::Index>(index - 1)) = value;
    previous = index;
  }
}

// Sparse text names d without paying for it: "1 2000000000:1" would ask for 8 GB of zeros.
// Unless the caller vouches for d (num_features), the dense matrix must be in proportion to
// the file: at most 2^24 values, or 1024 per byte read (real sparse sets such as rcv1, with
// density 1.6e-3, need about 80).
void check_dense_size(const std::string& path, const LibsvmCount& count, std::uint64_t values,
                      std::uint64_t file_bytes) {
  constexpr std::uint64_t kPerByte = 1024;
  const std::uint64_t budget =
      std::max<std::uint64_t>(std::uint64_t{1} << 24, kPerByte * file_bytes);
  if (values > budget)
    throw DataError(path, count.max_index_at,
                    "an index for which samples × features is at most 2^24 or 1024 per byte of "
                    "the file (" +
                        str(file_bytes) + " bytes) unless num_features is given, found " +
                        std::to_string(count.max_index) + " (" + str(count.samples) + " samples)");
}

// The size the first pass found, checked against the caps and by `check`: the matrix to read
// into (without columns when there is no sample or no feature: the second pass then says
// what is wrong).
FeatureMatrix libsvm_matrix(const std::string& path, const LibsvmCount& count,
                            std::int64_t num_features, std::uint64_t file_bytes,
                            const ShapeCheck& check) {
  const std::uint64_t samples = count.samples;
  const std::int64_t features = num_features > 0 ? num_features : count.max_index;
  if (samples == 0 || features == 0) return FeatureMatrix(static_cast<Eigen::Index>(samples), 0);
  std::uint64_t values = 0;
  if (!multiply(samples, static_cast<std::uint64_t>(features), values))
    values = std::numeric_limits<std::uint64_t>::max();
  if (num_features == 0) check_dense_size(path, count, values, file_bytes);
  if (values > kMaxValues)
    throw DataError(path, "",
                    "at most 2^31 feature values, found " + str(samples) + " samples × " +
                        std::to_string(features) + " features");
  if (check)
    check({path, samples, static_cast<std::uint64_t>(features),
           line_buffer_bytes(count.longest_line)});
  return FeatureMatrix::Zero(static_cast<Eigen::Index>(samples), features);
}

// ---------------------------------------------------------------------------------------
// CSV

// The first pass: data lines (not blank, not the header) and the first one's fields.
struct CsvCount {
  bool header = false;
  std::uint64_t lines = 0;
  std::uint64_t samples = 0;
  std::uint64_t fields = 0;
  std::uint64_t longest_line = 0;

  void byte(char c, std::size_t) {
    commas_ += c == ',' ? 1 : 0;
    content_ = content_ || (c != ' ' && c != '\t');
  }
  void end_line(std::size_t length) {
    ++lines;
    longest_line = std::max<std::uint64_t>(longest_line, length);
    if (content_ && !(header && lines == 1)) {
      ++samples;
      if (fields == 0) fields = commas_ + 1;
    }
    commas_ = 0;
    content_ = false;
  }

 private:
  std::uint64_t commas_ = 0;
  bool content_ = false;
};

struct CsvTable {
  std::size_t fields = 0;  // per line, set by the first data line
  std::int64_t first_line = 0;
  std::size_t label_field = 0;
  Dataset data;  // sized by the first pass
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
  if (static_cast<Eigen::Index>(fields) - 1 != table.data.features.cols()) changed_while_read(spot);
  table.fields = fields;
  table.first_line = spot.line;
  table.label_field = static_cast<std::size_t>(label);
}

void csv_line(std::string_view line, const TextSpot& spot, int label_column, CsvTable& table) {
  if (line.find_first_not_of(" \t") == line.npos) return;
  if (table.fields == 0)
    csv_shape(static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1, label_column,
              spot, table);
  const auto row = static_cast<Eigen::Index>(table.data.labels.size());
  if (row >= table.data.features.rows()) changed_while_read(spot);
  const std::string shape = str(table.fields) + " fields like line " +
                            std::to_string(table.first_line) + " (the first data line)";
  std::size_t start = 0, field = 0;
  Eigen::Index feature = 0;
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
      table.data.labels.push_back(label_number(text, spot, column, what + ", the label"));
    else
      table.data.features(row, feature++) = float_number(text, spot, column, what);
    start = stop + 1;
  }
  if (field < table.fields) fail_at(spot, line.size() + 1, shape + ", found " + str(field));
}

// The size the first pass found, capped and checked: the matrix to read into (without
// columns when there are too few fields: the second pass then says what is wrong).
FeatureMatrix csv_matrix(const std::string& path, const CsvCount& count, const ShapeCheck& check) {
  if (count.samples == 0 || count.fields < 2)
    return FeatureMatrix(static_cast<Eigen::Index>(count.samples), 0);
  const std::uint64_t features = count.fields - 1;
  std::uint64_t values = 0;
  if (!multiply(count.samples, features, values) || values > kMaxValues)
    throw DataError(path, "",
                    "at most 2^31 feature values, found " + str(count.samples) + " samples × " +
                        str(features) + " features");
  if (check) check({path, count.samples, features, line_buffer_bytes(count.longest_line)});
  return FeatureMatrix(static_cast<Eigen::Index>(count.samples),
                       static_cast<Eigen::Index>(features));
}

}  // namespace

Dataset read_libsvm(const std::string& path, std::int64_t num_features, const ShapeCheck& check) {
  if (num_features < 0)
    throw std::invalid_argument("read_libsvm: num_features must be >= 0 (0: the largest index)");
  LibsvmCount count;
  std::uint64_t file_bytes = 0;
  {
    Input first(path);
    scan_lines(first, count);
    file_bytes = first.offset();
  }
  Dataset dataset;
  dataset.source = path;
  dataset.features = libsvm_matrix(path, count, num_features, file_bytes, check);
  dataset.labels.reserve(static_cast<std::size_t>(dataset.features.rows()));
  Input in(path);
  LineReader reader(in);
  std::string_view line;
  while (reader.next(line)) libsvm_line(line, {path, reader.number(), ""}, num_features, dataset);
  if (dataset.labels.empty())
    throw DataError(path, "", "at least one sample (a line with a label)");
  if (dataset.features.cols() == 0)
    throw DataError(path, "", "at least one feature (an index:value pair), or num_features > 0");
  if (static_cast<Eigen::Index>(dataset.labels.size()) != dataset.features.rows())
    changed_while_read({path, reader.number(), ""});
  return dataset;
}

Dataset read_csv(const std::string& path, int label_column, bool header, const ShapeCheck& check) {
  CsvCount count;
  count.header = header;
  {
    Input first(path);
    scan_lines(first, count);
  }
  CsvTable table;
  table.data.source = path;
  table.data.features = csv_matrix(path, count, check);
  table.data.labels.reserve(static_cast<std::size_t>(table.data.features.rows()));
  Input in(path);
  LineReader reader(in);
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
  if (table.data.labels.empty())
    throw DataError(path, "",
                    header ? "at least one data line after the header" : "at least one data line");
  if (static_cast<Eigen::Index>(table.data.labels.size()) != table.data.features.rows())
    changed_while_read({path, reader.number(), ""});
  return std::move(table.data);
}
}  // namespace istlab
