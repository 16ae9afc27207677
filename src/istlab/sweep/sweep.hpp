#pragma once
// Runs a sweep: expand the grid, keep this shard's cells, skip those already stored, build
// each distinct problem once and each distinct theory once, run the cells on a TBB arena
// storing each as it finishes, then assemble trace.csv, cells.csv, timing.csv and
// manifest.json under OUT/<experiment>/, every file written atomically.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "istlab/data/catalog.hpp"
#include "istlab/sweep/config.hpp"
#include "istlab/sweep/grid.hpp"
#include "istlab/sweep/lock.hpp"
#include "istlab/sweep/progress.hpp"
#include "istlab/sweep/resources.hpp"
#include "istlab/sweep/shards.hpp"

namespace istlab {

class FolderLock;

struct SweepOptions {
  std::filesystem::path out_dir = "results";
  int threads = 0;  // the one thread knob: cells and their workers share them; 0 = all cores
  ProgressMode progress = ProgressMode::kAuto;
  std::string command_line;  // recorded in the manifest
  bool force = false;        // rerun cells that are already stored
  Shard shard;
  std::string mode = "local";  // recorded in the manifest: local, shard K/N, mpi rank R/P
  const std::atomic<bool>* interrupt = nullptr;  // set on SIGINT/SIGTERM: stop after a round
  // Set while cells run (when given), so a signal handler knows that cells stop by
  // themselves then, and can end the process at once at any other stage.
  std::atomic<bool>* cells_running = nullptr;
  // Whether the run holds OUT/<experiment>'s lock: every sweep, shard and merge does (so no
  // two of them write one folder's outputs at once); MPI ranks other than 0 work under
  // rank 0's.
  enum class Lock { kFolder, kNone };
  Lock lock = Lock::kFolder;
  // Datasets read by the sweep's problems, each once for the whole run.
  std::shared_ptr<DatasetCache> datasets = std::make_shared<DatasetCache>();
  // Facts from manifests that stand in for dataset files (merge, status; a sweep has none).
  std::shared_ptr<StoredDatasets> stored_datasets;
};

struct SweepSummary {
  std::filesystem::path directory;
  int cells = 0;    // in this shard
  int skipped = 0;  // already stored
  int ran = 0;
  int continued = 0;  // of those that ran: went on from a stored shorter run
  int failed = 0;
  int problems = 0;
  std::map<std::string, int> by_status;
  std::vector<ReasonGroup> failures;  // the cells that failed in this run, by reason
  double seconds = 0.0;
  std::string started_at;  // UTC, ISO 8601
  bool interrupted = false;
  std::shared_ptr<FolderLock> lock;  // held until the outputs are assembled
};

// Runs the shard's missing cells and stores them; no CSV is assembled. Throws ConfigError
// for invalid combinations and grids that cannot fit in memory (exit 2).
SweepSummary run_cells(const SweepConfig& config, const SweepOptions& options, std::ostream& log);

// Writes trace.csv, cells.csv, timing.csv and manifest.json for the shard's cells from the
// store; returns the keys of cells that are not stored yet (left out of the files).
std::vector<std::string> assemble_outputs(const SweepConfig& config, const SweepOptions& options,
                                          const SweepSummary& summary);

// Both, for a single process: runs, then assembles (when interrupted too: partial outputs).
SweepSummary run_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& log);

// --dry-run (sweep/status.cpp): cells, axes with their values, distinct problems and theories, the
// memory the largest cell needs, how many cells are stored already. Throws ConfigError when the
// largest cell cannot fit in memory.
void describe_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& out);

// `istlab status`: done / missing / failed cells; returns the number not done.
int report_status(const SweepConfig& config, const SweepOptions& options, std::ostream& out,
                  bool verbose = false);

// Removes (or with `dry_run` lists) the record files in OUT/<experiment>/cells/ that no
// longer belong to the config's grid: cells taken out of it, or another build's records.
// Holds the folder's lock; removes links themselves, never their targets; leaves every
// file whose name is not a record's. Returns 0.
int clean_records(const SweepConfig& config, const SweepOptions& options, bool dry_run,
                  std::ostream& out);

// The grid's cells in the options' shard, in grid order.
std::vector<Cell> shard_cells(const SweepConfig& config, const SweepOptions& options);

// The threads a sweep runs on: --threads, or every core.
int thread_count(const SweepOptions& options);

}  // namespace istlab
