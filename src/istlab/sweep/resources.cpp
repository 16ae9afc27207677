#include "istlab/sweep/resources.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <limits>
#include <set>

#include "istlab/run/workload.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {

namespace {

// The process itself: code, libraries, TBB's threads, allocator slack.
constexpr double kBaseBytes = 24.0 * (1 << 20);
// A recorded round's trace.csv and timing.csv text (the parameter fields repeat on every
// row: about 250 bytes), and an iterate coordinate's iterates.csv row. A running cell holds
// its rows as numbers and twice as text (the record and the file content saved from it);
// assembling holds every record's text in strings that grow by doubling (up to 2×).
constexpr double kTextPerRow = 250;
constexpr double kTextPerIterateValue = 90;
constexpr double kRunningCopies = 2;
constexpr double kAssembledCopies = 2;
constexpr double kBytesPerCell = 1024;  // a Cell of the grid, keys included

// Rounds a cell records: round 0, the last, the schedule (at most max_iters + 1).
double recorded_rows(const RunOptions& run) {
  double rows = 2.0 + static_cast<double>(run.record_log_points);
  if (run.record_every > 0) rows += static_cast<double>(run.max_iters / run.record_every);
  return std::min(rows, static_cast<double>(run.max_iters) + 1.0);
}

// The text of a cell's record.
double record_text_bytes(const Cell& cell, const RunOptions& run) {
  const double rows = recorded_rows(run);
  return rows * kTextPerRow +
         (run.record_iterates ? rows * cell.problem.dim * kTextPerIterateValue : 0.0);
}

// A running cell's records: TraceRows, iterates (d doubles per row) and the text.
double running_record_bytes(const Cell& cell, const RunOptions& run) {
  const double rows = recorded_rows(run);
  return rows * sizeof(TraceRow) + (run.record_iterates ? rows * cell.problem.dim * 8.0 : 0.0) +
         kRunningCopies * record_text_bytes(cell, run);
}

std::uint64_t bytes(double value) {
  return value >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max()
                         : static_cast<std::uint64_t>(value);
}

}  // namespace

std::uint64_t estimate_cell_bytes(const Cell& cell, const RunOptions& run) {
  const WorkloadKind& kind = workload_kind(problem_family(cell.problem.generator));
  return bytes(kind.run_bytes(cell.problem, cell.method, cell.sketch) +
               running_record_bytes(cell, run));
}

MemoryEstimate estimate_sweep_bytes(const std::vector<Cell>& cells, const RunOptions& run,
                                    int threads, std::uint64_t data_bytes) {
  std::set<std::string> problems;
  double largest_problem = 0.0;
  double largest_theory = 0.0;
  double largest_cell = 0.0;
  double records = 0.0;
  MemoryEstimate estimate;
  for (const auto& cell : cells) {
    const ProblemFamily& family = problem_family(cell.problem.generator);
    if (problems.insert(cell.problem_key()).second &&
        family.problem_bytes(cell.problem) > largest_problem) {
      largest_problem = family.problem_bytes(cell.problem);
      estimate.largest_problem = cell.problem_key();
    }
    largest_theory = std::max(largest_theory, family.theory_bytes(cell.problem));
    largest_cell = std::max(largest_cell, static_cast<double>(estimate_cell_bytes(cell, run)));
    records += kAssembledCopies * record_text_bytes(cell, run);
  }
  estimate.problems_at_once =
      static_cast<int>(std::min<std::size_t>(problems.size(), static_cast<std::size_t>(threads)));
  estimate.datasets = data_bytes;
  const double grid = kBaseBytes + kBytesPerCell * static_cast<double>(cells.size()) +
                      static_cast<double>(data_bytes);
  estimate.running = bytes(grid + estimate.problems_at_once * largest_problem +
                           threads * (largest_theory + largest_cell));
  estimate.assembling = bytes(grid + records);
  estimate.peak = std::max(estimate.running, estimate.assembling);
  return estimate;
}

void check_feasible(const SweepConfig& config, const std::vector<Cell>& cells, int threads,
                    std::uint64_t data_bytes) {
  for (const auto& cell : cells) {
    if (!cell.relative_step) continue;
    const std::string reason = theory_unavailable_reason(cell.problem);
    if (!reason.empty())
      config.fail("step_size",
                  fmt::format("relative step sizes need the theory of problem '{}', but {}; "
                              "give absolute step sizes for it",
                              cell.problem_key(), reason));
  }
  const MemoryEstimate estimate = estimate_sweep_bytes(cells, config.run, threads, data_bytes);
  const std::uint64_t available = available_memory_bytes();
  if (available > 0 && estimate.peak > available)
    config.fail(
        "problem",
        fmt::format("the sweep needs about {} at its peak ({} problems at once, the largest '{}'; "
                    "{} while assembling the outputs) but this machine has {}; reduce "
                    "problem.dim, problem.num_workers, --threads or what run.record keeps",
                    gib(estimate.peak), estimate.problems_at_once, estimate.largest_problem,
                    gib(estimate.assembling), available_text(available)));
}

}  // namespace istlab
