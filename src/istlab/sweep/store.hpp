#pragma once
// Finished cells on disk: one small file per cell under OUT/<experiment>/cells/, named by
// the cell key and the build that computed it, written atomically. A rerun skips cells
// whose file exists; the CSV outputs are assembled from these files sorted by cell key, so
// an interrupted, resumed, sharded or merged sweep gives the same bytes as one run.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "istlab/sweep/grid.hpp"
#include "istlab/sweep/record.hpp"

namespace istlab {

class CellStore {
 public:
  // `experiment_dir` is OUT/<experiment>; the build tag ties records to this build.
  explicit CellStore(std::filesystem::path experiment_dir);

  const std::filesystem::path& directory() const { return directory_; }
  bool has(const Cell& cell) const { return load(cell).has_value(); }
  void save(const Cell& cell, const CellRecord& record) const;
  // The stored record, or nullopt when there is none or it cannot be read back (e.g. a
  // file emptied by a power loss): such a cell counts as missing and is rerun.
  std::optional<CellRecord> load(const Cell& cell) const;
  // A cell whose run threw: remembered for `istlab status`, retried by the next run.
  void save_failure(const Cell& cell, const std::string& message) const;
  std::optional<std::string> failure(const Cell& cell) const;
  // Copies every record and failure of `other` (another folder's store) into this one.
  int import_from(const std::filesystem::path& other_experiment_dir) const;

  // This build's identity: version and git commit, hashed.
  static std::string build_tag();

 private:
  std::filesystem::path record_path(const Cell& cell) const;
  std::filesystem::path failure_path(const Cell& cell) const;

  std::filesystem::path directory_;
};

}  // namespace istlab
