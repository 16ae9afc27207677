#pragma once
// A stored run's state beside its record: what a longer run of the cell goes on from
// (RunOptions::continue_from). Every double of its rows bit for bit, its iterates and round
// counts, and the point it stopped at (x, or a network's parameters, stored as floats when
// every value is one). Binary, host byte order (a file from another byte order is refused),
// checksummed and bound to its cell's key like a record.

#include <optional>
#include <string>
#include <string_view>

#include "istlab/run/run.hpp"

namespace istlab {

std::string checkpoint_bytes(const std::string& key, const RunResult& run);

// The run `bytes` hold, or nullopt with why not in `why` (damaged, cut short, another
// cell's, another byte order, counts beyond the bytes).
std::optional<RunResult> parse_checkpoint(std::string_view bytes, const std::string& key,
                                          std::string* why);

}  // namespace istlab
