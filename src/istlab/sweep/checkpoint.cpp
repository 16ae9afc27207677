#include "istlab/sweep/checkpoint.hpp"

#include <fmt/core.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "istlab/io/files.hpp"

namespace istlab {
namespace {

constexpr std::string_view kMagic = "istlab checkpoint 2\n";
constexpr std::uint32_t kByteOrderMark = 0x01020304;
constexpr std::string_view kEndMarker = "#end ";
constexpr std::size_t kChecksumDigits = 16;

// A row's numbers, in the file's order.
constexpr std::array kRowFields = {&TraceRow::rel_err,
                                   &TraceRow::f_gap,
                                   &TraceRow::grad_norm2,
                                   &TraceRow::dist_fixed,
                                   &TraceRow::floats_up,
                                   &TraceRow::floats_down,
                                   &TraceRow::wall_s,
                                   &TraceRow::train_loss,
                                   &TraceRow::test_loss,
                                   &TraceRow::test_accuracy,
                                   &TraceRow::train_loss_pooled,
                                   &TraceRow::grad_norm2_pooled,
                                   &TraceRow::flops,
                                   &TraceRow::model_time_s};
// A field added to TraceRow or RoundCounts must be added here too, or a run that goes on from
// a checkpoint would lose it (the sizes say when one was not).
static_assert(sizeof(TraceRow) == sizeof(std::int64_t) + kRowFields.size() * sizeof(double));
constexpr std::array kCountFields = {&RoundCounts::floats_down,   &RoundCounts::floats_up,
                                     &RoundCounts::flops,         &RoundCounts::max_floats_down,
                                     &RoundCounts::max_floats_up, &RoundCounts::max_flops};
static_assert(sizeof(RoundCounts) == kCountFields.size() * sizeof(double));

class Writer {
 public:
  template <class T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put_vector(const Vector& vector) {
    put<std::uint64_t>(static_cast<std::uint64_t>(vector.size()));
    for (Eigen::Index i = 0; i < vector.size(); ++i) put(vector[i]);
  }
  std::string bytes;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    T value{};
    if (bytes_.size() - at_ < sizeof value) throw std::out_of_range("cut short");
    std::memcpy(&value, bytes_.data() + at_, sizeof value);
    at_ += sizeof value;
    return value;
  }
  // A count of items of `item_bytes` each, refused when the bytes left cannot hold them.
  std::size_t count(std::size_t item_bytes) {
    const auto n = get<std::uint64_t>();
    if (n > (bytes_.size() - at_) / item_bytes) throw std::out_of_range("a count beyond its bytes");
    return static_cast<std::size_t>(n);
  }
  Vector get_vector() {
    Vector vector(static_cast<Eigen::Index>(count(sizeof(double))));
    for (Eigen::Index i = 0; i < vector.size(); ++i) vector[i] = get<double>();
    return vector;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

bool all_floats(const Vector& point) {
  for (Eigen::Index i = 0; i < point.size(); ++i)
    if (static_cast<double>(static_cast<float>(point[i])) != point[i] && point[i] == point[i])
      return false;
  return true;
}

}  // namespace

std::string checkpoint_bytes(const std::string& key, const RunResult& run) {
  Writer out;
  out.bytes = fmt::format("{}{}\n", kMagic, key);
  out.put(kByteOrderMark);
  out.put(static_cast<std::uint8_t>(run.status));
  out.put<std::int64_t>(run.iterations);
  out.put<std::int32_t>(run.num_workers);
  out.put<std::uint64_t>(run.trace.size());
  for (const TraceRow& row : run.trace) {
    out.put<std::int64_t>(row.iter);
    for (const auto field : kRowFields) out.put(row.*field);
  }
  out.put<std::uint64_t>(run.iterates.size());
  for (const Vector& iterate : run.iterates) out.put_vector(iterate);
  out.put<std::uint64_t>(run.round_counts.size());
  for (const RoundCounts& counts : run.round_counts)
    for (const auto field : kCountFields) out.put(counts.*field);
  // A network's parameters are floats: half the bytes.
  const bool floats = all_floats(run.final_point);
  out.put<std::uint8_t>(floats ? 1 : 0);
  out.put<std::uint64_t>(static_cast<std::uint64_t>(run.final_point.size()));
  for (Eigen::Index i = 0; i < run.final_point.size(); ++i) {
    if (floats)
      out.put(static_cast<float>(run.final_point[i]));
    else
      out.put(run.final_point[i]);
  }
  out.bytes += fmt::format("{}{}\n", kEndMarker, hex_hash(out.bytes));
  return std::move(out.bytes);
}

std::optional<RunResult> parse_checkpoint(std::string_view bytes, const std::string& key,
                                          std::string* why) {
  const std::string head = fmt::format("{}{}\n", kMagic, key);
  const std::size_t tail = kEndMarker.size() + kChecksumDigits + 1;
  if (!bytes.starts_with(kMagic)) {
    *why = "not an istlab checkpoint";
    return std::nullopt;
  }
  if (!bytes.starts_with(head)) {
    *why = "the checkpoint of another cell";
    return std::nullopt;
  }
  if (bytes.size() < head.size() + tail ||
      bytes.substr(bytes.size() - tail, kEndMarker.size()) != kEndMarker || bytes.back() != '\n' ||
      bytes.substr(bytes.size() - tail + kEndMarker.size(), kChecksumDigits) !=
          hex_hash(bytes.substr(0, bytes.size() - tail))) {
    *why = "its checksum does not match (cut short, edited or damaged)";
    return std::nullopt;
  }
  try {
    Reader in(bytes.substr(head.size(), bytes.size() - tail - head.size()));
    if (in.get<std::uint32_t>() != kByteOrderMark) throw std::out_of_range("another byte order");
    RunResult run;
    const auto status = in.get<std::uint8_t>();
    if (status > static_cast<std::uint8_t>(RunStatus::kInterrupted))
      throw std::out_of_range("an unknown status");
    run.status = static_cast<RunStatus>(status);
    run.iterations = in.get<std::int64_t>();
    run.num_workers = in.get<std::int32_t>();
    run.trace.resize(in.count(sizeof(std::int64_t) + kRowFields.size() * sizeof(double)));
    for (TraceRow& row : run.trace) {
      row.iter = in.get<std::int64_t>();
      for (const auto field : kRowFields) row.*field = in.get<double>();
    }
    run.iterates.resize(in.count(sizeof(std::uint64_t)));
    for (Vector& iterate : run.iterates) iterate = in.get_vector();
    run.round_counts.resize(in.count(kCountFields.size() * sizeof(double)));
    for (RoundCounts& counts : run.round_counts)
      for (const auto field : kCountFields) counts.*field = in.get<double>();
    const bool floats = in.get<std::uint8_t>() == 1;
    run.final_point.resize(
        static_cast<Eigen::Index>(in.count(floats ? sizeof(float) : sizeof(double))));
    for (Eigen::Index i = 0; i < run.final_point.size(); ++i)
      run.final_point[i] = floats ? static_cast<double>(in.get<float>()) : in.get<double>();
    if (!in.done()) throw std::out_of_range("bytes after its end");
    // Rows in round order, the last at the run's end: what the loop relies on.
    for (std::size_t r = 1; r < run.trace.size(); ++r)
      if (run.trace[r].iter <= run.trace[r - 1].iter) throw std::out_of_range("rows out of order");
    if (run.trace.empty() || run.trace.front().iter != 0 || run.trace.back().iter != run.iterations)
      throw std::out_of_range("rows that do not span its rounds");
    if (!run.iterates.empty() && run.iterates.size() != run.trace.size())
      throw std::out_of_range("iterates that do not match its rows");
    return run;
  } catch (const std::out_of_range& error) {
    *why = fmt::format("malformed despite a valid checksum: {}", error.what());
    return std::nullopt;
  }
}

}  // namespace istlab
