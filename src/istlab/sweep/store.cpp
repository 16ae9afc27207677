#include "istlab/sweep/store.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "istlab/io/build_info.hpp"
#include "istlab/io/csv.hpp"
#include "istlab/io/files.hpp"
#include "istlab/sweep/checkpoint.hpp"

namespace istlab {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kStatusMarker = "#status ";
constexpr std::string_view kLengthMarker = "#length ";
constexpr std::string_view kTraceMarker = "#trace\n";
constexpr std::string_view kTimingMarker = "#timing\n";
constexpr std::string_view kIteratesMarker = "#iterates\n";
constexpr std::string_view kProblemMarker = "#problem\n";
// The last line, "#end <checksum>\n": a record cut anywhere lacks it. The checksum is
// hex_hash (64-bit FNV-1a) of every byte before it. It guards against accidents (an editor,
// a bad disk, a half copy), not against forgery: FNV-1a always changes when one byte
// changes (each step maps the state one to one), and misses other damage with odds of
// about 2^-64. A CRC-64 or a cryptographic hash would add code and buy nothing here.
constexpr std::string_view kEndMarker = "#end ";
constexpr std::size_t kChecksumDigits = 16;

// A record or failure note is at most this large: a bigger file is refused unread (merge once
// read a 3 GB file whole before rejecting it).
constexpr std::uint64_t kMaxRecordBytes = std::uint64_t{2} << 30;

// A whole regular file of at most kMaxRecordBytes, or nullopt with why not in `error`. A FIFO,
// device or folder (directly or through a link) is refused without reading.
std::optional<std::string> read_file(const fs::path& path, std::string* error) {
  FileRead file = read_regular_file(path, kMaxRecordBytes);
  using Problem = FileRead::Problem;
  switch (file.problem) {
    case Problem::kNone:
      return std::move(file.text);
    case Problem::kUnreadable:
      *error = "cannot be read: " + file.reason;
      break;
    case Problem::kFolder:
    case Problem::kNotRegular:
      *error = "not a regular file";
      break;
    case Problem::kTooLarge:
    case Problem::kGrew:
      *error = fmt::format("is {} bytes; a record is at most {}",
                           file.problem == Problem::kGrew ? "more than" : std::to_string(file.size),
                           kMaxRecordBytes);
      break;
  }
  return std::nullopt;
}

std::string record_text(const CellRecord& record) {
  std::string text = fmt::format(
      "{}{}\n{}{} {}\n{}{}{}{}{}{}{}{}{}", kStatusMarker, record.status, kLengthMarker,
      record.length.max_iters, format_number(record.length.max_seconds), record.summary_row,
      kTraceMarker, record.trace_rows, kTimingMarker, record.timing_rows, kIteratesMarker,
      record.iterate_rows, kProblemMarker, record.problem_rows);
  text += fmt::format("{}{}\n", kEndMarker, hex_hash(text));
  return text;
}

// Empty when `text` ends with an "#end <checksum>" line that matches the bytes before it
// (which go into `body`); else why not.
std::string check_checksum(std::string_view text, std::string_view& body) {
  if (text.empty()) return "empty file (its content was lost, e.g. in a power cut)";
  const auto end_line = text.rfind(kEndMarker);
  if (end_line == std::string_view::npos || (end_line > 0 && text[end_line - 1] != '\n') ||
      text.size() != end_line + kEndMarker.size() + kChecksumDigits + 1 || text.back() != '\n')
    return "no \"#end <checksum>\" line at its end (cut short, or written by an istlab "
           "without record checksums)";
  body = text.substr(0, end_line);
  const auto stored = text.substr(end_line + kEndMarker.size(), kChecksumDigits);
  const std::string actual = hex_hash(body);
  if (stored == actual) return {};
  return fmt::format(
      "checksum mismatch: the content hashes to {}, the record says {} (edited "
      "or damaged after it was written)",
      actual, escape_invalid_utf8(stored));
}

// "<max_iters> <max_seconds>", as record_text writes them; nullopt for anything else.
std::optional<RunLength> parse_length(std::string_view text) {
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  RunLength length;
  const std::string iters(text.substr(0, space));
  const std::string seconds(text.substr(space + 1));
  char* end = nullptr;
  length.max_iters = std::strtoll(iters.c_str(), &end, 10);
  if (iters.empty() || *end != '\0') return std::nullopt;
  length.max_seconds = std::strtod(seconds.c_str(), &end);
  if (seconds.empty() || *end != '\0') return std::nullopt;
  // (written as format_number writes it: a value it writes otherwise is not one it wrote)
  if (fmt::format("{} {}", length.max_iters, format_number(length.max_seconds)) != text)
    return std::nullopt;
  return length;
}

// Splits a checked record's body into its fields; empty, or what is malformed.
std::string split_sections(std::string_view body, CellRecord& record) {
  if (!body.starts_with(kStatusMarker)) return "no \"#status\" line at its start";
  const auto status_line_end = body.find('\n');
  if (status_line_end == std::string_view::npos ||
      body.substr(status_line_end + 1, kLengthMarker.size()) != kLengthMarker)
    return "no \"#length\" line after its status (written by an older istlab)";
  const auto length_start = status_line_end + 1 + kLengthMarker.size();
  const auto status_end = body.find('\n', length_start);
  if (status_end == std::string_view::npos) return "its sections are missing or out of order";
  const auto length = parse_length(body.substr(length_start, status_end - length_start));
  if (!length) return "its \"#length\" line is not \"<max_iters> <max_seconds>\"";
  const auto trace_at = body.find(kTraceMarker);
  const auto timing_at = body.find(kTimingMarker);
  const auto iterates_at = body.find(kIteratesMarker);
  const auto problem_at = body.find(kProblemMarker);
  // npos (a marker missing) is larger than any position, so it breaks the order too.
  if (!(status_end < trace_at && trace_at < timing_at && timing_at < iterates_at &&
        iterates_at < problem_at && problem_at != std::string_view::npos))
    return "its sections are missing or out of order";
  const auto trace_start = trace_at + kTraceMarker.size();
  const auto timing_start = timing_at + kTimingMarker.size();
  record = CellRecord{
      std::string(body.substr(kStatusMarker.size(), status_line_end - kStatusMarker.size())),
      std::string(body.substr(status_end + 1, trace_at - status_end - 1)),
      std::string(body.substr(trace_start, timing_at - trace_start)),
      std::string(body.substr(timing_start, iterates_at - timing_start)),
      std::string(body.substr(iterates_at + kIteratesMarker.size(),
                              problem_at - iterates_at - kIteratesMarker.size())),
      std::string(body.substr(problem_at + kProblemMarker.size())),
      *length};
  return {};
}

// The key a record's cells.csv row names: its first field.
std::string_view named_key(const CellRecord& record) {
  const std::string_view row = record.summary_row;
  return row.substr(0, std::min(row.find_first_of(",\n"), row.size()));
}

// Checks and parses a record file's bytes: empty with the record in `record`, or why the
// file is corrupt. A record names its cell in its row, and must be `key`'s: a record copied
// onto another cell's file name would otherwise stand for that cell, giving one cell two
// rows and the other none.
std::string parse_record(std::string_view text, const std::string& key, CellRecord& record) {
  std::string_view body;
  if (std::string reason = check_checksum(text, body); !reason.empty()) return reason;
  // Only a forged checksum gets here with bad bytes; they would break the JSON manifest.
  if (const auto at = invalid_utf8_offset(body); at != std::string_view::npos)
    return fmt::format("not UTF-8 text at byte {}", at);
  if (std::string reason = split_sections(body, record); !reason.empty())
    return "malformed despite a valid checksum: " + reason;
  if (named_key(record) != key)
    return fmt::format(
        "it is the record of cell {}, not of cell {} its file name says (copied or renamed "
        "onto another cell's name)",
        escape_invalid_utf8(std::string(named_key(record).substr(0, 64))), key);
  return {};
}

}  // namespace

CellStore::CellStore(std::filesystem::path experiment_dir)
    : directory_(std::move(experiment_dir) / "cells") {}

std::string CellStore::build_tag() {
  const BuildInfo& build = build_info();
  return hex_hash(fmt::format("{}|{}|{}", build.version, build.git_commit,
                              build.git_dirty ? "dirty" : "clean"));
}

fs::path CellStore::record_path(const Cell& cell) const {
  return directory_ / fmt::format("{}.{}.cell", cell.key, build_tag());
}

fs::path CellStore::failure_path(const Cell& cell) const {
  return directory_ / fmt::format("{}.{}.failed", cell.key, build_tag());
}

fs::path CellStore::checkpoint_path(const Cell& cell) const {
  return directory_ / fmt::format("{}.{}.state", cell.key, build_tag());
}

void CellStore::save(const Cell& cell, const CellRecord& record, const RunResult* run) const {
  fs::create_directories(directory_);
  // Not fsynced: a killed process leaves the old state or the whole file (the rename is
  // atomic); only a power loss could lose recent cells, which a rerun recomputes. Killed
  // between the two writes, the checkpoint and the record are of two runs of this cell:
  // either is safe to keep, as a run goes on from a checkpoint only once cannot_continue
  // has checked it against the run asked for.
  if (run != nullptr)
    write_file_atomically(checkpoint_path(cell), checkpoint_bytes(cell.key, *run),
                          /*durable=*/false);
  else
    fs::remove(checkpoint_path(cell));
  write_file_atomically(record_path(cell), record_text(record), /*durable=*/false);
  fs::remove(failure_path(cell));
}

std::optional<RunResult> CellStore::checkpoint(const Cell& cell, std::string* why) const {
  std::string reason;
  const auto path = checkpoint_path(cell);
  std::error_code error;
  if (fs::symlink_status(path, error).type() == fs::file_type::not_found) {
    reason = "no checkpoint";
  } else if (const auto bytes = read_file(path, &reason)) {
    if (auto run = parse_checkpoint(*bytes, cell.key, &reason)) return run;
  }
  if (why != nullptr) *why = fmt::format("{}: {}", path.string(), reason);
  return std::nullopt;
}

RecordLookup CellStore::lookup(const Cell& cell) const {
  RecordLookup found;
  auto corrupt_because = [&found](std::string reason) {
    found.state = RecordState::kCorrupt;
    found.corruption = std::move(reason);
    return found;
  };
  const auto path = record_path(cell);
  std::error_code error;
  if (fs::status(path, error).type() == fs::file_type::not_found) return found;
  std::string reason;  // (read_file refuses what is not a regular file, or too large)
  const auto text = read_file(path, &reason);
  if (!text) return corrupt_because(reason);
  CellRecord record;
  reason = parse_record(*text, cell.key, record);
  if (!reason.empty()) return corrupt_because(reason);
  if (!(record.length == cell.length)) {
    found.state = RecordState::kOtherLength;
    found.stored_length = record.length;
    return found;
  }
  found.state = RecordState::kStored;
  found.record = std::move(record);
  return found;
}

fs::path CellStore::blocked_slot(const Cell& cell) const {
  std::error_code error;
  for (const fs::path& slot : {record_path(cell), failure_path(cell)})
    if (fs::is_directory(fs::symlink_status(slot, error))) return slot;
  return {};
}

bool CellStore::corrupt(const Cell& cell, std::string* reason) const {
  RecordLookup found = lookup(cell);
  if (reason != nullptr) *reason = std::move(found.corruption);
  return found.state == RecordState::kCorrupt;
}

void CellStore::save_failure(const Cell& cell, const std::string& message) const {
  fs::create_directories(directory_);
  write_file_atomically(failure_path(cell), message + "\n");
}

std::optional<std::string> CellStore::failure(const Cell& cell) const {
  const auto path = failure_path(cell);
  std::error_code error;
  if (!fs::exists(path, error)) return std::nullopt;
  std::string reason;
  auto text = read_file(path, &reason);
  return failure_text(text ? std::move(*text)
                           : fmt::format("(its file {} {})", path.string(), reason));
}

std::string CellStore::failure_text(std::string message) {
  while (!message.empty() && message.back() == '\n') message.pop_back();
  // Escaped rather than replaced by '?': the bytes that were there stay visible.
  return escape_invalid_utf8(message);
}

int CellStore::import_from(const fs::path& other_experiment_dir,
                           std::vector<std::string>* rejected) const {
  const auto source = other_experiment_dir / "cells";
  if (!fs::is_directory(source)) return 0;
  fs::create_directories(directory_);
  int copied = 0;
  for (const auto& entry : fs::directory_iterator(source)) {
    const auto extension = entry.path().extension();
    if (extension != ".cell" && extension != ".failed" && extension != ".state") continue;
    std::string reason;
    const auto text = read_file(entry.path(), &reason);
    CellRecord checked;
    // (the key is the file name up to its first dot: <key>.<build tag>.cell)
    const std::string name = entry.path().filename().string();
    const std::string key = name.substr(0, name.find('.'));
    if (text && extension == ".cell") reason = parse_record(*text, key, checked);
    // (parse_checkpoint sets the reason only when it refuses the file)
    if (text && extension == ".state") parse_checkpoint(*text, key, &reason);
    if (!text || !reason.empty()) {
      if (rejected != nullptr)
        rejected->push_back(escape_invalid_utf8(entry.path().string() + ": " + reason));
      continue;
    }
    write_file_atomically(directory_ / entry.path().filename(), *text);
    ++copied;
  }
  return copied;
}

}  // namespace istlab
