#pragma once
// A sweep's grid: the Cartesian product of every list in the config (lists named together
// in `zip:` advance together), per `methods:` entry, the entries forming a union. The axes
// are the parameter tables' entries, in table order. Parameters a cell's family or method
// does not read are reset (NaN, a default, the identity sketch for gd), so equal cells
// appear once.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "istlab/data/catalog.hpp"
#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/run/run.hpp"
#include "istlab/sketch/sketch.hpp"
#include "istlab/sweep/config.hpp"

namespace istlab {

struct Cell {
  int index = 0;    // position in grid order (the order of the output files)
  std::string key;  // hash of every resolved parameter (not of the build)
  // The same hash without the network model: cells that share it follow the same iterates
  // and differ only in how their rounds are priced, so a sweep runs them once.
  std::string trajectory;
  ProblemSpec problem;
  MethodSpec method;
  SketchSpec sketch;
  CostModel network;  // the modelled network and compute rate (run/cost_model.hpp)
  bool relative_step = false;
  double step_value = 0.0;  // as written: absolute, or a multiple of the theoretical step
  std::uint64_t seed = 0;
  std::optional<std::uint64_t> problem_seed;  // `problem.seed`; unset: the problem follows `seed`
  // The run's max_iters and max_seconds (not in the key: a stored run of another length is
  // this cell's too, and a longer run goes on from it).
  RunLength length;

  // Cells with equal keys share a problem, and a theory.
  std::string problem_key() const { return problem.key(); }
  std::string theory_key() const;
};

// A cell in a line: its key and what sets it apart within a problem (method, sketch, step,
// seed); its row in cells.csv has every parameter.
std::string describe_cell(const Cell& cell);

// Cells without a result, grouped by their reason (a failed run's message) up to the numbers
// in it (seeds draw other values, the same fault): how many, the first reason and its cell
// as an example, in the order the reasons came first.
struct ReasonGroup {
  std::string shape;   // the reason with every number as '#'
  std::string reason;  // the first
  int count = 0;
  bool numbers_vary = false;  // some cell's reason has other numbers
  std::string example;        // describe_cell of the first
  // "<count> cell(s): <reason> (e.g. <example>)", saying when the others' numbers differ.
  std::string line() const;
};
void add_to_groups(std::vector<ReasonGroup>& groups, const std::string& reason, const Cell& cell);

// What a manifest says of a dataset its cells read: enough to rebuild their keys without
// the file (merge and status work from stored results after a data file moved).
struct StoredDataset {
  std::string source;
  std::int64_t samples = 0;   // after preprocessing
  std::int64_t features = 0;  // after preprocessing: the cells' dim
  std::string fingerprint;    // DatasetCache::fingerprint of the file(s)
};
struct StoredDatasets {
  std::map<std::string, StoredDataset> by_request;  // by DatasetRequest::key()
  // true: these facts stand in for the files, which are not read (merge: what it combines
  // is the shards' records); false: only for a file that cannot be read (status).
  bool instead_of_files = false;
  // Files that could not be read, with why, where stored facts stood in (status says so).
  std::map<std::string, std::string> unread;
};

// A dataset's facts, and the data themselves when read: from `stored` when it stands in
// for files, else read through `datasets`, else (the file cannot be read) from `stored`
// when it describes the request. Throws DataError when neither has it.
struct DatasetFacts {
  std::shared_ptr<const Dataset> dataset;  // null when the facts are stored ones
  StoredDataset facts;
};
DatasetFacts dataset_facts(const DatasetRequest& request, DatasetCache& datasets,
                           StoredDatasets* stored);

// Throws ConfigError (with file and line) for combinations that are invalid together,
// e.g. the dense generator with heterogeneity above 1. Families built from data read their
// datasets through `datasets` (a fresh cache when null), or take their facts from `stored`
// (see dataset_facts): a cell's dim is the number of features, and its split must fit the
// samples (checked only on data that were read).
std::vector<Cell> expand_grid(const SweepConfig& config, DatasetCache* datasets = nullptr,
                              StoredDatasets* stored = nullptr);

}  // namespace istlab
