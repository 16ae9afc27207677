#pragma once
// What a sweep needs before it starts: memory for its largest cell, and a theory wherever
// a relative step needs one. Refusals are config errors (exit 2), raised before any work.

#include <cstdint>
#include <string>
#include <vector>

#include "istlab/io/config.hpp"
#include "istlab/sweep/grid.hpp"

namespace istlab {

// Bytes a cell needs at its peak (problem, theory, method buffers), as the problem
// family's and the method's registry entries estimate them.
std::uint64_t estimate_cell_bytes(const Cell& cell);
// MemAvailable, or 0 when unknown.
std::uint64_t available_memory_bytes();
// "12.3 MiB" or "1.25 GiB".
std::string gib(std::uint64_t bytes);

// Throws ConfigError when the largest cell cannot fit in memory, or a relative step needs
// a theory its problem does not have.
void check_feasible(const SweepConfig& config, const std::vector<Cell>& cells);

}  // namespace istlab
