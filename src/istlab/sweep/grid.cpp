#include "istlab/sweep/grid.hpp"

#include <fmt/core.h>

#include <limits>
#include <set>
#include <stdexcept>

#include "istlab/io/files.hpp"

namespace istlab {
namespace {

constexpr double kNotApplicable = std::numeric_limits<double>::quiet_NaN();

// The field a validate() message names: "dim = 3: ..." → "dim".
std::string field_of(const std::invalid_argument& error) {
  const std::string message = error.what();
  return message.substr(0, message.find(" = "));
}

ProblemSpec normalised(ProblemSpec problem) {
  if (problem.generator != "dense") problem.kappa = kNotApplicable;
  if (problem.generator != "tridiagonal") problem.mu = kNotApplicable;
  if (problem.generator == "counterexample") problem.heterogeneity = kNotApplicable;
  return problem;
}

std::string cell_text(const Cell& cell) {
  return fmt::format("{}|method={}|outer={}|tau={}|sketch={}|scale={}|q={}|step={}{}|seed={}",
                     cell.problem.key(), cell.method.name, cell.method.outer_sketch,
                     cell.method.local_steps, name(cell.sketch.type), name(cell.sketch.scale),
                     cell.sketch.rand_q, cell.relative_step ? "rel:" : "", cell.step_value, cell.seed);
}

}  // namespace

std::string Cell::theory_key() const {
  return fmt::format("{}|sketch={}|scale={}|q={}", problem.key(), name(sketch.type), name(sketch.scale),
                     sketch.rand_q);
}

std::vector<Cell> expand_grid(const SweepConfig& config) {
  std::vector<Cell> cells;
  std::set<std::string> seen;
  auto add = [&](Cell cell, const MethodAxes& entry) {
    try {
      cell.problem.validate();
    } catch (const std::invalid_argument& error) {
      config.fail("problem." + field_of(error), error.what());
    }
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
    cell.key = hex_hash(cell_text(cell));
    if (!seen.insert(cell.key).second) return;
    cell.index = static_cast<int>(cells.size());
    cells.push_back(std::move(cell));
  };

  for (const auto& generator : config.generator)
    for (const int dim : config.dim)
      for (const int workers : config.num_workers)
        for (const double heterogeneity : config.heterogeneity)
          for (const bool interpolation : config.interpolation)
            for (const double kappa : config.kappa)
              for (const double mu : config.mu)
                for (const std::uint64_t seed : config.seeds) {
                  ProblemSpec problem{generator, dim, workers, heterogeneity, interpolation, mu, kappa, seed};
                  problem = normalised(problem);
                  for (const auto& entry : config.methods) {
                    const StepSizeAxis& steps = entry.step_size ? *entry.step_size : *config.step_size;
                    for (const auto& method_name : entry.method)
                      for (const auto sketch_type : entry.sketch)
                        for (const auto scale : entry.scale)
                          for (const int rand_q : entry.rand_q)
                            for (const bool outer : entry.outer_sketch)
                              for (const int local_steps : entry.local_steps)
                                for (const double step : steps.values) {
                                  Cell cell;
                                  cell.problem = problem;
                                  cell.seed = seed;
                                  cell.relative_step = steps.relative;
                                  cell.step_value = step;
                                  const bool is_ist = method_name == "ist";
                                  cell.method = {method_name, is_ist ? outer : true, is_ist ? local_steps : 1};
                                  if (method_name != "gd") cell.sketch = {sketch_type, scale, rand_q};
                                  cell.sketch.rand_q = cell.sketch.type == SketchType::kRand
                                                           ? cell.sketch.resolved_rand_q(dim, workers)
                                                           : 0;
                                  add(std::move(cell), entry);
                                }
                  }
                }
  return cells;
}

}  // namespace istlab
