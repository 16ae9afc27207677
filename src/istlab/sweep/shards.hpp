#pragma once
// Shards: disjoint slices of a grid run by separate processes (--shard K/N, SLURM arrays,
// MPI ranks) into separate folders, and `istlab merge`, which joins their cell records.

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "istlab/sweep/grid.hpp"

namespace istlab {

// The K-th (1-based) of N disjoint slices of a grid, chosen by cell key so a cell's shard
// does not change when other cells are added.
struct Shard {
  int index = 1;
  int count = 1;
  bool contains(const Cell& cell) const;
  // Parses "K/N"; throws std::invalid_argument.
  static Shard parse(const std::string& text);
};

struct SweepOptions;

// `istlab merge`: copies the cell records of shard output folders into OUT and assembles
// the whole grid (taken from the shards' manifests); returns the missing cells' keys.
std::vector<std::string> merge_shards(const std::vector<std::filesystem::path>& shard_dirs,
                                      const SweepOptions& options, std::ostream& log);

}  // namespace istlab
