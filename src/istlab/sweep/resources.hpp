#pragma once
// What a sweep needs before it starts: memory for everything it holds at once, and a
// theory wherever a relative step needs one. Refusals are config errors (exit 2), raised
// before any work.

#include <cstdint>
#include <string>
#include <vector>

#include "istlab/io/memory.hpp"  // available_memory_bytes, gib
#include "istlab/sweep/config.hpp"
#include "istlab/sweep/grid.hpp"

namespace istlab {

// Bytes one cell needs while it runs: the method's buffers and its recorded rows.
std::uint64_t estimate_cell_bytes(const Cell& cell, const RunOptions& run);

// The peak of a sweep on `threads` threads. Running, it holds the grid, one problem per
// thread (a problem is built when its first cell runs and released after its last), and
// per thread a theory being computed and a running cell; assembling, it holds the text of
// every record.
struct MemoryEstimate {
  std::uint64_t peak = 0;
  std::uint64_t running = 0;
  std::uint64_t assembling = 0;
  int problems_at_once = 0;
  std::uint64_t datasets = 0;   // of the peak: datasets held for the whole sweep
  std::string largest_problem;  // its key
};
// `data_bytes`: the datasets the sweep holds (read once, shared by every problem).
MemoryEstimate estimate_sweep_bytes(const std::vector<Cell>& cells, const RunOptions& run,
                                    int threads, std::uint64_t data_bytes = 0);

// Throws ConfigError when the sweep cannot fit in memory on `threads` threads, or a
// relative step needs a theory its problem does not have.
void check_feasible(const SweepConfig& config, const std::vector<Cell>& cells, int threads,
                    std::uint64_t data_bytes = 0);

}  // namespace istlab
