#pragma once
// Finished cells on disk: one small file per cell under OUT/<experiment>/cells/, named by
// the cell key and the build that computed it, written atomically. A rerun skips cells
// whose file holds an intact record; the CSV outputs are assembled from these files sorted
// by cell key, so an interrupted, resumed, sharded or merged sweep gives the same bytes as
// one run.
//
// A record file is text:
//
//   #status <status>\n
//   #length <max_iters> <max_seconds>\n   (the run's length, which the key leaves out)
//   <the cells.csv row>
//   #trace\n      <trace.csv rows>
//   #timing\n     <timing.csv rows>
//   #iterates\n   <iterates.csv rows>
//   #problem\n    <problems.csv rows of the cell's problem>
//   #end <checksum>\n
//
// (each marker on a line of its own, its rows on the lines after it). <checksum> is
// hex_hash() of every byte before "#end": a record that was edited, damaged or cut short
// after it was written fails the check and is *corrupt*: not a result, so its cell is
// rerun, but unlike a missing record it is reported (record_path() names the file).
//
// Beside a record, <key>.<build tag>.state holds the run's state (sweep/checkpoint.hpp): a
// run of the cell to a larger max_iters or max_seconds goes on from it.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "istlab/sweep/grid.hpp"
#include "istlab/sweep/record.hpp"

namespace istlab {

// What a cell's record file holds.
enum class RecordState {
  kMissing,  // no file: the cell has not finished (a .failed file may say why)
  kStored,   // an intact record
  kCorrupt,  // a file that fails the check, or cannot be read: rerun and report it
  // An intact record of the cell run to another max_iters or max_seconds: a run goes on
  // from its checkpoint where it can, else reruns the cell.
  kOtherLength,
};

struct RecordLookup {
  RecordState state = RecordState::kMissing;
  std::optional<CellRecord> record;  // set exactly when state is kStored
  std::string corruption;            // why the file was rejected, when state is kCorrupt
  RunLength stored_length;           // the record's, when state is kOtherLength
};

class CellStore {
 public:
  // `experiment_dir` is OUT/<experiment>; the build tag ties records to this build.
  explicit CellStore(std::filesystem::path experiment_dir);

  const std::filesystem::path& directory() const { return directory_; }
  // Where `cell`'s record is (or would be) stored: <directory>/<key>.<build tag>.cell.
  std::filesystem::path record_path(const Cell& cell) const;
  // A folder where the cell's record or failure note belongs, or empty: nothing can be
  // renamed over it, so no run could ever store the cell.
  std::filesystem::path blocked_slot(const Cell& cell) const;

  // Reads and checks `cell`'s record file. Never throws: any bytes at all, an unreadable
  // file or folder give kCorrupt with a reason such as "checksum mismatch: ...".
  RecordLookup lookup(const Cell& cell) const;
  // The intact record, or nullopt when there is none or it is corrupt.
  std::optional<CellRecord> load(const Cell& cell) const { return lookup(cell).record; }
  bool has(const Cell& cell) const { return lookup(cell).state == RecordState::kStored; }
  // Whether `cell`'s record file exists but is corrupt; `reason` (when given) gets why.
  bool corrupt(const Cell& cell, std::string* reason = nullptr) const;

  // Stores the record and, when given, the run's checkpoint (what a longer run goes on from).
  void save(const Cell& cell, const CellRecord& record, const RunResult* run = nullptr) const;
  // The checkpoint stored beside `cell`'s record, or nullopt (none, or damaged: `why` says).
  std::optional<RunResult> checkpoint(const Cell& cell, std::string* why = nullptr) const;

  // A cell whose run threw: remembered for `istlab status`, retried by the next run.
  void save_failure(const Cell& cell, const std::string& message) const;
  // The stored message, with any byte that is not UTF-8 shown as "\xNN" (the file may hold
  // anything; the message goes to terminals and JSON). An unreadable file gives a message
  // saying so. Never throws.
  std::optional<std::string> failure(const Cell& cell) const;
  // A failure message as failure() reads it back: without trailing newlines, bytes that are
  // not UTF-8 escaped.
  static std::string failure_text(std::string message);

  // Copies every intact record and every failure of `other` (another folder's store) into
  // this one; returns how many. A corrupt record is not copied (it would replace a good
  // record of the same cell here): `rejected`, when given, gets "<file>: <reason>" for each.
  int import_from(const std::filesystem::path& other_experiment_dir,
                  std::vector<std::string>* rejected = nullptr) const;

  // This build's identity: version and git commit, hashed.
  static std::string build_tag();

 private:
  std::filesystem::path failure_path(const Cell& cell) const;
  std::filesystem::path checkpoint_path(const Cell& cell) const;

  std::filesystem::path directory_;
};

}  // namespace istlab
