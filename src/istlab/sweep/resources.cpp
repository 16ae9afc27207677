#include "istlab/sweep/resources.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <fstream>
#include <limits>

#include "istlab/theory/theory.hpp"

namespace istlab {

std::uint64_t estimate_cell_bytes(const Cell& cell) {
  const ProblemFamily& family = problem_family(cell.problem.generator);
  const double total = family.problem_bytes(cell.problem) + family.theory_bytes(cell.problem) +
                       method_bytes(cell.method, cell.problem.dim, cell.problem.num_workers);
  return total >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max()
                         : static_cast<std::uint64_t>(total);
}

std::uint64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  const long pages = ::sysconf(_SC_AVPHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0
             ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size)
             : 0;
}

std::string gib(std::uint64_t bytes) {
  const double size = static_cast<double>(bytes);
  if (size < (1ull << 30)) return fmt::format("{:.1f} MiB", size / (1ull << 20));
  return fmt::format("{:.2f} GiB", size / (1ull << 30));
}

void check_feasible(const SweepConfig& config, const std::vector<Cell>& cells) {
  const std::uint64_t available = available_memory_bytes();
  const Cell* largest = nullptr;
  std::uint64_t largest_bytes = 0;
  for (const auto& cell : cells) {
    const std::uint64_t bytes = estimate_cell_bytes(cell);
    if (bytes > largest_bytes) largest_bytes = bytes, largest = &cell;
    if (cell.relative_step) {
      const std::string reason = theory_unavailable_reason(cell.problem);
      if (!reason.empty())
        config.fail("step_size",
                    fmt::format("relative step sizes need the theory of problem '{}', but {}; "
                                "give absolute step sizes for it",
                                cell.problem_key(), reason));
    }
  }
  if (largest != nullptr && available > 0 && largest_bytes > available)
    config.fail(
        "problem",
        fmt::format("the largest cell ({}, method {}) needs about {} but this machine has {} "
                    "available; reduce problem.dim or problem.num_workers",
                    largest->problem_key(), largest->method.name, gib(largest_bytes),
                    gib(available)));
}

}  // namespace istlab
