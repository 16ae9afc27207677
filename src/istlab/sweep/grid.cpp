#include "istlab/sweep/grid.hpp"

#include <fmt/core.h>

#include <functional>
#include <limits>
#include <set>
#include <stdexcept>

#include "istlab/io/files.hpp"

namespace istlab {
namespace {

constexpr double kNotApplicable = std::numeric_limits<double>::quiet_NaN();
constexpr double kMaxCells = 1e7;

// One swept key: `size` values, `apply(i, cell)` sets the i-th.
struct Axis {
  std::string key;
  std::size_t size;
  std::function<void(std::size_t, Cell&)> apply;
};

template <class T, class Set>
Axis axis(std::string key, const std::vector<T>& values, Set set) {
  return {std::move(key), values.size(), [&values, set](std::size_t i, Cell& cell) { set(cell, values[i]); }};
}

// Calls visit(cell) for every combination of the axes, the first axis slowest.
void for_each_combination(const std::vector<Axis>& axes, std::size_t depth, Cell& cell,
                          const std::function<void(Cell&)>& visit) {
  if (depth == axes.size()) return visit(cell);
  for (std::size_t i = 0; i < axes[depth].size; ++i) {
    axes[depth].apply(i, cell);
    for_each_combination(axes, depth + 1, cell, visit);
  }
}

// Replaces the axes named in each zip group by one axis that advances them together.
std::vector<Axis> zipped(std::vector<Axis> axes, const std::vector<std::vector<std::string>>& groups) {
  for (const auto& group : groups) {
    std::vector<Axis> members;
    std::size_t first_position = axes.size();
    for (std::size_t position = 0; position < axes.size();) {
      bool member = false;
      for (const auto& key : group) member = member || axes[position].key == key;
      if (member) {
        first_position = std::min(first_position, position);
        members.push_back(std::move(axes[position]));
        axes.erase(axes.begin() + static_cast<std::ptrdiff_t>(position));
      } else {
        ++position;
      }
    }
    Axis together{group.front(), members.front().size, [members](std::size_t i, Cell& cell) {
                    for (const auto& member : members) member.apply(i, cell);
                  }};
    axes.insert(axes.begin() + static_cast<std::ptrdiff_t>(first_position), std::move(together));
  }
  return axes;
}

// The field a validate() message names: "dim = 3: ..." → "dim".
std::string field_of(const std::invalid_argument& error) {
  const std::string message = error.what();
  return message.substr(0, message.find(" = "));
}

// Parameters the cell's generator or method does not read get one value, so equal cells
// collapse to one key.
void normalise(Cell& cell) {
  ProblemSpec& problem = cell.problem;
  if (problem.generator != "dense") problem.kappa = kNotApplicable;
  if (problem.generator != "tridiagonal") problem.mu = kNotApplicable;
  if (problem.generator == "counterexample") problem.heterogeneity = kNotApplicable;
  problem.seed = cell.problem_seed.value_or(cell.seed);
  if (cell.method.name != "ist") cell.method.outer_sketch = true, cell.method.local_steps = 1;
  if (cell.method.name == "gd") cell.sketch = SketchSpec{};
  // SPEC §2 defines scales for perm and rand; the identity keeps every coordinate at 1.
  if (cell.sketch.type == SketchType::kIdentity) cell.sketch.scale = SketchScale::kUnbiased;
  cell.sketch.rand_q = cell.sketch.type == SketchType::kRand
                           ? cell.sketch.resolved_rand_q(problem.dim, problem.num_workers)
                           : 0;
}

// Everything a cell's record depends on: its parameters, its repeat number (written into
// the record) and the run options (stop rules, record schedule), so a stored cell is reused
// only when it would come out the same.
std::string cell_text(const Cell& cell, const RunOptions& run) {
  return fmt::format(
      "{}|method={}|outer={}|tau={}|sketch={}|scale={}|q={}|step={}{}|seed={}|repeat={}"
      "|run={},{},{},{},{},{},{},{},{},{}",
      cell.problem.key(), cell.method.name, cell.method.outer_sketch, cell.method.local_steps,
      name(cell.sketch.type), name(cell.sketch.scale), cell.sketch.rand_q, cell.relative_step ? "rel:" : "",
      cell.step_value, cell.seed, cell.repeat, run.max_iters, run.tolerance, run.f_gap_tolerance,
      run.grad_norm2_tolerance, run.floats_budget, run.max_seconds, run.divergence_factor, run.record_every,
      run.record_log_points, run.record_iterates);
}

}  // namespace

std::string Cell::theory_key() const {
  return fmt::format("{}|sketch={}|scale={}|q={}", problem.key(), name(sketch.type), name(sketch.scale),
                     sketch.rand_q);
}

std::vector<Cell> expand_grid(const SweepConfig& config) {
  std::vector<Axis> problem_axes = {
      axis("problem.generator", config.generator, [](Cell& c, const std::string& v) { c.problem.generator = v; }),
      axis("problem.dim", config.dim, [](Cell& c, int v) { c.problem.dim = v; }),
      axis("problem.num_workers", config.num_workers, [](Cell& c, int v) { c.problem.num_workers = v; }),
      axis("problem.heterogeneity", config.heterogeneity, [](Cell& c, double v) { c.problem.heterogeneity = v; }),
      axis("problem.interpolation", config.interpolation, [](Cell& c, bool v) { c.problem.interpolation = v; }),
      axis("problem.kappa", config.kappa, [](Cell& c, double v) { c.problem.kappa = v; }),
      axis("problem.mu", config.mu, [](Cell& c, double v) { c.problem.mu = v; }),
      {"seeds", config.seeds.size(), [&config](std::size_t i, Cell& c) {
         c.seed = config.seeds[i];
         c.repeat = static_cast<int>(i);
       }},
  };
  if (!config.problem_seed.empty())
    problem_axes.push_back(axis("problem.seed", config.problem_seed,
                                [](Cell& c, std::uint64_t v) { c.problem_seed = v; }));
  problem_axes = zipped(std::move(problem_axes), config.zip);

  // Refuse absurd grids before building them.
  double problem_combinations = 1.0;
  for (const auto& problem_axis : problem_axes) problem_combinations *= static_cast<double>(problem_axis.size);
  double method_combinations = 0.0;
  for (const auto& entry : config.methods) {
    const StepSizeAxis& steps = entry.step_size ? *entry.step_size : *config.step_size;
    method_combinations += static_cast<double>(entry.method.size() * entry.sketch.size() * entry.scale.size() *
                                               entry.rand_q.size() * entry.outer_sketch.size() *
                                               entry.local_steps.size() * steps.values.size());
  }
  if (problem_combinations * method_combinations > kMaxCells)
    config.fail("methods", fmt::format("the grid has {:.3g} cells; a sweep takes at most {:.0f}",
                                       problem_combinations * method_combinations, kMaxCells));

  std::vector<Cell> cells;
  std::set<std::string> seen;
  auto add = [&](Cell cell, const MethodAxes& entry) {
    normalise(cell);
    try {
      cell.problem.validate();
    } catch (const std::invalid_argument& error) {
      config.fail("problem." + field_of(error), error.what());
    }
    if (config.run.record_iterates && cell.problem.dim > kMaxRecordedIterateDim)
      config.fail("run.record_iterates", fmt::format("records x at every recorded round, for dim up to {}; "
                                                     "problem.dim = {} is too large",
                                                     kMaxRecordedIterateDim, cell.problem.dim));
    try {
      cell.sketch.validate(cell.problem.dim);
    } catch (const std::invalid_argument& error) {
      config.fail(entry.where + ".rand_q", error.what());
    }
    try {
      cell.method.validate();
    } catch (const std::invalid_argument& error) {
      config.fail(entry.where + "." + field_of(error), error.what());
    }
    cell.key = hex_hash(cell_text(cell, config.run));
    if (!seen.insert(cell.key).second) return;
    cell.index = static_cast<int>(cells.size());
    cells.push_back(std::move(cell));
  };

  Cell cell;
  for_each_combination(problem_axes, 0, cell, [&](Cell& problem_cell) {
    for (const auto& entry : config.methods) {
      const StepSizeAxis& steps = entry.step_size ? *entry.step_size : *config.step_size;
      const std::vector<Axis> method_axes = {
          axis(entry.where + ".method", entry.method, [](Cell& c, const std::string& v) { c.method.name = v; }),
          axis(entry.where + ".sketch", entry.sketch, [](Cell& c, SketchType v) { c.sketch.type = v; }),
          axis(entry.where + ".scale", entry.scale, [](Cell& c, SketchScale v) { c.sketch.scale = v; }),
          axis(entry.where + ".rand_q", entry.rand_q, [](Cell& c, int v) { c.sketch.rand_q = v; }),
          axis(entry.where + ".outer_sketch", entry.outer_sketch, [](Cell& c, bool v) { c.method.outer_sketch = v; }),
          axis(entry.where + ".local_steps", entry.local_steps, [](Cell& c, int v) { c.method.local_steps = v; }),
          axis("step_size", steps.values, [&steps](Cell& c, double v) {
            c.relative_step = steps.relative;
            c.step_value = v;
          }),
      };
      Cell method_cell = problem_cell;
      for_each_combination(method_axes, 0, method_cell, [&](Cell& full) { add(full, entry); });
    }
  });
  return cells;
}

}  // namespace istlab
