#pragma once
// Runs a sweep: expand the grid, keep this shard's cells, skip those already stored, build
// each distinct problem once and each distinct theory once, run the cells on a TBB arena
// storing each as it finishes, then assemble trace.csv, cells.csv, timing.csv and
// manifest.json under OUT/<experiment>/, every file written atomically.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "istlab/io/config.hpp"
#include "istlab/sweep/grid.hpp"

namespace istlab {

enum class ProgressMode { kAuto, kTerminal, kLines, kQuiet };

// The K-th (1-based) of N disjoint slices of a grid, chosen by cell key so a cell's shard
// does not change when other cells are added.
struct Shard {
  int index = 1;
  int count = 1;
  bool contains(const Cell& cell) const;
  // Parses "K/N"; throws std::invalid_argument.
  static Shard parse(const std::string& text);
};

struct SweepOptions {
  std::filesystem::path out_dir = "results";
  int threads = 0;  // 0 = all hardware threads
  ProgressMode progress = ProgressMode::kAuto;
  std::string command_line;  // recorded in the manifest
  bool force = false;        // rerun cells that are already stored
  Shard shard;
  std::string mode = "local";  // recorded in the manifest: local, shard K/N, mpi rank R/P
  const std::atomic<bool>* interrupt = nullptr;  // set on SIGINT/SIGTERM: stop after a round
};

struct SweepSummary {
  std::filesystem::path directory;
  int cells = 0;    // in this shard
  int skipped = 0;  // already stored
  int ran = 0;
  int failed = 0;
  int problems = 0;
  std::map<std::string, int> by_status;
  double seconds = 0.0;
  std::string started_at;  // UTC, ISO 8601
  bool interrupted = false;
};

// Runs the shard's missing cells and stores them; no CSV is assembled. Throws ConfigError
// for invalid combinations and grids that cannot fit in memory (exit 2).
SweepSummary run_cells(const SweepConfig& config, const SweepOptions& options, std::ostream& log);

// Writes trace.csv, cells.csv, timing.csv and manifest.json for the shard's cells from the
// store; returns the keys of cells that are not stored yet (left out of the files).
std::vector<std::string> assemble_outputs(const SweepConfig& config, const SweepOptions& options,
                                          const SweepSummary& summary);

// Both, for a single process: runs, then assembles unless interrupted.
SweepSummary run_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& log);

// --dry-run: cells, axes with their values, distinct problems and theories, the memory the
// largest cell needs, how many cells are stored already. Throws ConfigError when the
// largest cell cannot fit in memory.
void describe_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& out);

// `istlab status`: done / missing / failed cells; returns the number not done.
int report_status(const SweepConfig& config, const SweepOptions& options, std::ostream& out);

// `istlab merge`: copies the cell records of shard output folders into OUT and assembles
// the whole grid (taken from the shards' manifests); returns the missing cells' keys.
std::vector<std::string> merge_shards(const std::vector<std::filesystem::path>& shard_dirs,
                                      const SweepOptions& options, std::ostream& log);

// Bytes a cell needs at its peak (problem, theory, method buffers), and what this machine
// has available.
std::uint64_t estimate_cell_bytes(const Cell& cell);
std::uint64_t available_memory_bytes();

}  // namespace istlab
