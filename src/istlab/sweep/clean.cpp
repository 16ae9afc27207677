// `istlab clean`: the records in a results folder that no longer belong to the config's grid
// (cells taken out of it, or computed by another build), listed with --dry-run, else removed.

#include <fmt/core.h>

#include <filesystem>
#include <regex>
#include <set>

#include "istlab/sweep/lock.hpp"
#include "istlab/sweep/store.hpp"
#include "istlab/sweep/sweep.hpp"

namespace istlab {

int clean_records(const SweepConfig& config, const SweepOptions& options, bool dry_run,
                  std::ostream& out) {
  namespace fs = std::filesystem;
  const fs::path experiment_dir = options.out_dir / config.experiment;
  const fs::path cells_dir = experiment_dir / "cells";
  std::error_code error;
  if (!fs::is_directory(fs::symlink_status(cells_dir, error))) {
    out << fmt::format("{}: no records to clean\n", cells_dir.string());
    return 0;
  }
  // (removing while a sweep writes could take a record it has just stored)
  const FolderLock lock(experiment_dir, ".lock");
  std::set<std::string> keys;
  for (const auto& cell : shard_cells(config, options)) keys.insert(cell.key);
  // Only names istlab gives records, failure notes and checkpoints; anything else is not ours
  // to remove.
  static const std::regex record_name("([0-9a-f]{16})\\.([0-9a-f]{16})\\.(cell|failed|state)");
  const std::string build = CellStore::build_tag();
  int stale = 0;
  std::uintmax_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(cells_dir)) {
    const std::string name = entry.path().filename().string();
    std::smatch match;
    if (!std::regex_match(name, match, record_name)) continue;
    const auto status = entry.symlink_status(error);
    if (fs::is_directory(status)) continue;  // (status names it: a folder is not a record)
    const bool other_build = match[2] != build;
    if (!other_build && keys.count(match[1])) continue;
    ++stale;
    if (fs::is_regular_file(status)) bytes += fs::file_size(entry.path(), error);
    if (dry_run) {
      out << fmt::format("would remove {} ({})\n", entry.path().string(),
                         other_build ? "another build's" : "not in the grid");
      continue;
    }
    fs::remove(entry.path());  // (a link is removed itself, never what it points to)
  }
  out << fmt::format(
      "{}: {} {} record files ({:.1f} MiB) that no longer belong to the grid of "
      "{} ({} cells){}\n",
      cells_dir.string(), dry_run ? "would remove" : "removed", stale,
      static_cast<double>(bytes) / (1 << 20), config.path, keys.size(),
      dry_run && stale > 0 ? "; run without --dry-run to remove them" : "");
  return 0;
}

}  // namespace istlab
