#include "istlab/sweep/store.hpp"

#include <fmt/core.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "istlab/io/build_info.hpp"
#include "istlab/io/files.hpp"

namespace istlab {
namespace {

constexpr std::string_view kStatusMarker = "#status ";
constexpr std::string_view kTraceMarker = "#trace\n";
constexpr std::string_view kTimingMarker = "#timing\n";
constexpr std::string_view kIteratesMarker = "#iterates\n";
constexpr std::string_view kEndMarker = "#end\n";  // a record cut anywhere lacks it

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

CellStore::CellStore(std::filesystem::path experiment_dir)
    : directory_(std::move(experiment_dir) / "cells") {}

std::string CellStore::build_tag() {
  const BuildInfo& build = build_info();
  return hex_hash(fmt::format("{}|{}|{}", build.version, build.git_commit,
                              build.git_dirty ? "dirty" : "clean"));
}

std::filesystem::path CellStore::record_path(const Cell& cell) const {
  return directory_ / fmt::format("{}.{}.cell", cell.key, build_tag());
}

std::filesystem::path CellStore::failure_path(const Cell& cell) const {
  return directory_ / fmt::format("{}.{}.failed", cell.key, build_tag());
}

void CellStore::save(const Cell& cell, const CellRecord& record) const {
  std::filesystem::create_directories(directory_);
  // Not fsynced: a killed process leaves the old state or the whole file (the rename is
  // atomic); only a power loss could lose recent cells, which a rerun recomputes.
  write_file_atomically(record_path(cell),
                        std::string(kStatusMarker) + record.status + "\n" + record.summary_row +
                            std::string(kTraceMarker) + record.trace_rows +
                            std::string(kTimingMarker) + record.timing_rows +
                            std::string(kIteratesMarker) + record.iterate_rows +
                            std::string(kEndMarker),
                        /*durable=*/false);
  std::filesystem::remove(failure_path(cell));
}

std::optional<CellRecord> CellStore::load(const Cell& cell) const {
  const auto path = record_path(cell);
  std::string text;
  try {
    if (!std::filesystem::exists(path)) return std::nullopt;
    text = read_file(path);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
  // "#status S\n", the cells.csv row, then the marked sections.
  if (text.rfind(kStatusMarker, 0) != 0 || !text.ends_with(kEndMarker)) return std::nullopt;
  text.resize(text.size() - kEndMarker.size());
  const auto status_end = text.find('\n');
  const auto trace_at = text.find(kTraceMarker);
  const auto timing_at = text.find(kTimingMarker);
  const auto iterates_at = text.find(kIteratesMarker);
  if (trace_at == std::string::npos || timing_at == std::string::npos ||
      iterates_at == std::string::npos || !(trace_at < timing_at && timing_at < iterates_at))
    return std::nullopt;
  const auto trace_start = trace_at + kTraceMarker.size();
  const auto timing_start = timing_at + kTimingMarker.size();
  if (status_end == std::string::npos || status_end > trace_at) return std::nullopt;
  return CellRecord{text.substr(kStatusMarker.size(), status_end - kStatusMarker.size()),
                    text.substr(status_end + 1, trace_at - status_end - 1),
                    text.substr(trace_start, timing_at - trace_start),
                    text.substr(timing_start, iterates_at - timing_start),
                    text.substr(iterates_at + kIteratesMarker.size())};
}

void CellStore::save_failure(const Cell& cell, const std::string& message) const {
  std::filesystem::create_directories(directory_);
  write_file_atomically(failure_path(cell), message + "\n");
}

std::optional<std::string> CellStore::failure(const Cell& cell) const {
  const auto path = failure_path(cell);
  if (!std::filesystem::exists(path)) return std::nullopt;
  std::string message = read_file(path);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

int CellStore::import_from(const std::filesystem::path& other_experiment_dir) const {
  const auto source = other_experiment_dir / "cells";
  if (!std::filesystem::is_directory(source)) return 0;
  std::filesystem::create_directories(directory_);
  int copied = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    const auto extension = entry.path().extension();
    if (extension != ".cell" && extension != ".failed") continue;
    write_file_atomically(directory_ / entry.path().filename(), read_file(entry.path()));
    ++copied;
  }
  return copied;
}

}  // namespace istlab
