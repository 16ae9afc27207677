#pragma once
// Runs a sweep: expand the grid, build each distinct problem once and each distinct
// theory once, run the cells on a TBB arena, write trace.csv, cells.csv, timing.csv and
// manifest.json atomically under OUT/<experiment>/.

#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "istlab/io/config.hpp"
#include "istlab/sweep/grid.hpp"

namespace istlab {

enum class ProgressMode { kAuto, kTerminal, kLines, kQuiet };

struct SweepOptions {
  std::filesystem::path out_dir = "results";
  int threads = 0;  // 0 = all hardware threads
  ProgressMode progress = ProgressMode::kAuto;
  std::string command_line;  // recorded in the manifest
};

struct SweepSummary {
  std::filesystem::path directory;
  int cells = 0;
  int problems = 0;
  std::map<std::string, int> by_status;
  double seconds = 0.0;
};

// Throws ConfigError for invalid combinations (exit 2), std::runtime_error otherwise.
SweepSummary run_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& log);

// What a sweep would run: cell count, axes, distinct problems.
void describe_sweep(const SweepConfig& config, const std::vector<Cell>& cells, std::ostream& out);

}  // namespace istlab
