#include "istlab/sweep/grid.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "istlab/io/files.hpp"
#include "istlab/problem/network_problem.hpp"
#include "istlab/run/workload.hpp"

namespace istlab {
namespace {

constexpr double kMaxCells = kMaxGridCells;

// One swept key: `size` values, `apply(i, cell)` sets the i-th.
struct Axis {
  std::string key;
  std::size_t size;
  std::function<void(std::size_t, Cell&)> apply;
};

Axis axis(std::string key, std::vector<Value> values,
          std::function<void(Cell&, const Value&)> set) {
  const std::size_t size = values.size();
  return {std::move(key), size,
          [values = std::move(values), set = std::move(set)](std::size_t i, Cell& cell) {
            set(cell, values[i]);
          }};
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
std::vector<Axis> zipped(std::vector<Axis> axes,
                         const std::vector<std::vector<std::string>>& groups) {
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

// The problem axes in table order, then the seeds and `problem.seed`, zipped as asked.
std::vector<Axis> problem_axes(const SweepConfig& config) {
  std::vector<Axis> axes;
  for (const auto& parameter : problem_parameters())
    axes.push_back(
        axis("problem." + parameter.name, SweepConfig::values_of(config.problem, parameter),
             [&parameter](Cell& cell, const Value& value) { parameter.set(cell.problem, value); }));
  for (const auto& parameter : cost_parameters())
    axes.push_back(
        axis("network." + parameter.name, SweepConfig::values_of(config.network, parameter),
             [&parameter](Cell& cell, const Value& value) { parameter.set(cell.network, value); }));
  axes.push_back({"seeds", config.seeds.size(),
                  [&config](std::size_t i, Cell& cell) { cell.seed = config.seeds[i]; }});
  if (!config.problem_seed.empty())
    axes.push_back(
        {"problem.seed", config.problem_seed.size(),
         [&config](std::size_t i, Cell& cell) { cell.problem_seed = config.problem_seed[i]; }});
  return zipped(std::move(axes), config.zip);
}

// One `methods:` entry's axes: the method's options, then the sketch's, then the step.
std::vector<Axis> method_axes(const MethodAxes& entry, const StepSizeAxis& steps) {
  std::vector<Axis> axes;
  for (const auto& parameter : method_parameters())
    axes.push_back(
        axis(entry.where + "." + parameter.name, SweepConfig::values_of(entry.values, parameter),
             [&parameter](Cell& cell, const Value& value) { parameter.set(cell.method, value); }));
  for (const auto& parameter : sketch_parameters())
    axes.push_back(
        axis(entry.where + "." + parameter.name, SweepConfig::values_of(entry.values, parameter),
             [&parameter](Cell& cell, const Value& value) { parameter.set(cell.sketch, value); }));
  axes.push_back({"step_size", steps.values.size(), [&steps](std::size_t i, Cell& cell) {
                    cell.relative_step = steps.relative;
                    cell.step_value = steps.values[i];
                  }});
  return axes;
}

const StepSizeAxis& steps_of(const SweepConfig& config, const MethodAxes& entry) {
  return entry.step_size ? *entry.step_size : *config.step_size;
}

// Refuses absurd grids before building them.
void check_grid_size(const SweepConfig& config, const std::vector<Axis>& problem) {
  double problem_combinations = 1.0;
  for (const auto& problem_axis : problem)
    problem_combinations *= static_cast<double>(problem_axis.size);
  double method_combinations = 0.0;
  for (const auto& entry : config.methods) {
    double combinations = 1.0;
    for (const auto& method_axis : method_axes(entry, steps_of(config, entry)))
      combinations *= static_cast<double>(method_axis.size);
    method_combinations += combinations;
  }
  if (problem_combinations * method_combinations > kMaxCells)
    config.fail("methods", fmt::format("the grid has {:.3g} cells; a sweep takes at most {:.0f}",
                                       problem_combinations * method_combinations, kMaxCells));
}

// The config key of a parameter named in a ParameterError.
std::string key_of(const std::string& name, const MethodAxes& entry) {
  if (find_parameter(problem_parameters(), name)) return "problem." + name;
  return entry.where + "." + name;
}

// Parameters the cell's family or method does not read get one value, so equal cells
// collapse to one key.
void reset_unread(Cell& cell) {
  cell.problem.reset_unread();
  cell.problem.seed = cell.problem_seed.value_or(cell.seed);
  reset_unread(cell.method, cell.sketch,
               workload_kind(problem_family(cell.problem.generator)).unread_method_options);
  // A ring all-reduce needs every worker to send the same dense vector (gd, local_sgd); the
  // sketched methods send their own coordinates through the server.
  if (!can_allreduce(cell.method)) cell.network.topology = "server";
}

// Throws the ConfigError for a ParameterError of the cell's `entry`.
template <class Check>
void checked(const SweepConfig& config, const MethodAxes& entry, Check check) {
  try {
    check();
  } catch (const ParameterError& error) {
    std::vector<std::string> related;
    for (const auto& name : error.related) related.push_back(key_of(name, entry));
    config.fail(key_of(error.name, entry), error.rule, error.value, related);
  }
}

// The rules between the cell's kind of workload and its run settings.
void check_kind(const Cell& cell, const SweepConfig& config, const MethodAxes& entry) {
  const WorkloadKind& kind = workload_kind(problem_family(cell.problem.generator));
  const auto broken = kind.check(cell.problem, config.run, cell.relative_step);
  if (!broken) return;
  // (a step size may be the entry's own)
  const bool entry_step = broken->key == "step_size" && entry.step_size;
  config.fail(entry_step ? entry.where + ".step_size" : broken->key, broken->rule);
}

// The network model's own rules, and those between it, the run and the method.
void check_cost_model(const Cell& cell, const SweepConfig& config) {
  try {
    cell.network.validate();
  } catch (const ParameterError& error) {
    std::vector<std::string> related;
    for (const auto& name : error.related) related.push_back("network." + name);
    config.fail("network." + error.name, error.rule, error.value, related);
  }
  if (config.run.time_budget > 0.0 && !cell.network.enabled())
    config.fail("run.time_budget",
                "counts modelled seconds: it needs a network model, e.g. "
                "network: ethernet");
}

void validate(const Cell& cell, const SweepConfig& config, const MethodAxes& entry) {
  const ProblemFamily& family = problem_family(cell.problem.generator);
  checked(config, entry, [&] {
    cell.sketch.validate(family.sketch_dim(cell.problem));
    cell.method.validate();
  });
  check_kind(cell, config, entry);
  check_cost_model(cell, config);
}

// Families built from data: dim and num_samples from the dataset (read once, through the
// cache, or stored facts standing in for it), and the family's rules between the spec and
// the data (its split must fit).
class DataResolver {
 public:
  DataResolver(const SweepConfig& config, DatasetCache* datasets, StoredDatasets* stored)
      : config_(config), datasets_(datasets ? *datasets : own_), stored_(stored) {}

  void resolve(Cell& cell, const MethodAxes& entry) {
    const ProblemFamily& family = problem_family(cell.problem.generator);
    if (family.dataset == nullptr) return;
    if (config_.problem.count("dim"))
      config_.fail("problem.dim",
                   fmt::format("is set by the dataset for generator '{}' (the number of features "
                               "after preprocessing); remove it",
                               family.name));
    const Resolved& data = resolved(family.dataset(cell.problem), "dataset");
    cell.problem.data_fingerprint = data.facts.fingerprint;
    cell.problem.dim = static_cast<int>(data.facts.features);
    cell.problem.num_samples = data.facts.samples;
    // (for the memory estimate: an mlp's output layer is classes × hidden; unknown, 0,
    // when stored facts stand in for the file)
    cell.problem.num_classes =
        data.classes.by_label ? static_cast<int>(data.classes.values.size()) : 0;
    if (family.check_data != nullptr && data.dataset)
      checked(config_, entry,
              [&] { family.check_data(cell.problem, *data.dataset, data.classes); });
    const DatasetRequest test =
        family.test_dataset ? family.test_dataset(cell.problem) : DatasetRequest{};
    if (!test.names_a_dataset()) return;
    const Resolved& test_data = resolved(test, "test_dataset");
    cell.problem.data_fingerprint += "+" + test_data.facts.fingerprint;
    cell.problem.num_test_samples = test_data.facts.samples;
    // (once per pair of datasets: the check reads every label of both)
    if (!data.dataset || !test_data.dataset ||
        !test_checked_.insert(cell.problem.data_fingerprint).second)
      return;
    try {
      check_test_set(*data.dataset, *test_data.dataset);
    } catch (const DataError& error) {
      config_.fail(test.name.empty() ? "problem.test_dataset.path" : "problem.test_dataset.name",
                   error.what());
    }
  }

 private:
  // What the cells built on one dataset share: read (or stored), fingerprinted and
  // classified once.
  struct Resolved : DatasetFacts {
    LabelClasses classes;
  };

  const Resolved& resolved(const DatasetRequest& request, const std::string& key_prefix) {
    const std::string key = request.key();
    if (const auto found = resolved_.find(key); found != resolved_.end()) return found->second;
    try {
      Resolved data{dataset_facts(request, datasets_, stored_), {}};
      if (data.dataset) data.classes = dataset_classes(*data.dataset);
      return resolved_.emplace(key, std::move(data)).first->second;
    } catch (const DataError& error) {
      config_.fail(fmt::format("problem.{}.{}", key_prefix, request.name.empty() ? "path" : "name"),
                   error.what());
    }
  }

  const SweepConfig& config_;
  DatasetCache own_;
  DatasetCache& datasets_;
  StoredDatasets* stored_;
  std::map<std::string, Resolved> resolved_;  // by dataset key
  std::set<std::string> test_checked_;        // training and test fingerprints checked
};

// Everything a cell's record depends on: its parameters (values, never positions in a list,
// so reordering seeds or steps reruns nothing) and the run options (stop rules, record
// schedule), so a stored cell is reused only when it would come out the same. Not the run's
// length (max_iters, max_seconds): the store compares it (Cell::length), and a longer run
// goes on from a stored shorter one.
std::string cell_text(const Cell& cell, const RunOptions& run) {
  std::string text = cell.problem.key();
  for (const auto& parameter : method_parameters())
    if (in_key(parameter, cell.method))
      text += fmt::format("|{}={}", parameter.label, format_value(parameter.get(cell.method)));
  text += cell.sketch.key();
  for (const auto& parameter : cost_parameters())
    if (in_key(parameter, cell.network))
      text += fmt::format("|{}={}", parameter.label, format_value(parameter.get(cell.network)));
  text += fmt::format("|step={}{}|seed={}|run=", cell.relative_step ? "rel:" : "", cell.step_value,
                      cell.seed);
  bool first = true;
  for (const auto& parameter : run_parameters()) {
    if (!in_key(parameter, run)) continue;
    if (!first) text += ',';
    text += format_value(parameter.get(run));
    first = false;
  }
  return text;
}

}  // namespace

std::string Cell::theory_key() const { return problem.key() + sketch.key(); }

std::string describe_cell(const Cell& cell) {
  return fmt::format("cell {} ({} {}, step {}{}, seed {})", cell.key, cell.method.name,
                     name(cell.sketch.type), cell.relative_step ? "x" : "", cell.step_value,
                     cell.seed);
}

namespace {

std::string number_shape(const std::string& text) {
  std::string shape;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool starts = std::isdigit(static_cast<unsigned char>(text[i])) ||
                        (text[i] == '-' && i + 1 < text.size() &&
                         std::isdigit(static_cast<unsigned char>(text[i + 1])));
    if (!starts) {
      shape += text[i];
      continue;
    }
    shape += '#';
    while (i + 1 < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i + 1])) ||
            std::string_view(".eE+-").find(text[i + 1]) != std::string_view::npos))
      ++i;
  }
  return shape;
}

}  // namespace

std::string ReasonGroup::line() const {
  return fmt::format("{} cell{}: {}{} (e.g. {})", count, count == 1 ? "" : "s", reason,
                     numbers_vary ? " (the others alike, with other numbers)" : "", example);
}

void add_to_groups(std::vector<ReasonGroup>& groups, const std::string& reason, const Cell& cell) {
  const std::string shape = number_shape(reason);
  for (auto& group : groups)
    if (group.shape == shape) {
      ++group.count;
      group.numbers_vary = group.numbers_vary || reason != group.reason;
      return;
    }
  groups.push_back({shape, reason, 1, false, describe_cell(cell)});
}

DatasetFacts dataset_facts(const DatasetRequest& request, DatasetCache& datasets,
                           StoredDatasets* stored) {
  const auto found = stored ? stored->by_request.find(request.key())
                            : std::map<std::string, StoredDataset>::iterator{};
  const bool has_stored = stored && found != stored->by_request.end();
  if (has_stored && stored->instead_of_files) return {nullptr, found->second};
  try {
    auto dataset = datasets.get(request);
    StoredDataset facts{dataset->source, dataset->num_samples(), dataset->num_features(),
                        datasets.fingerprint(request)};
    return {std::move(dataset), std::move(facts)};
  } catch (const DataError& error) {
    if (!has_stored) throw;
    stored->unread.emplace(found->second.source, error.what());
    return {nullptr, found->second};
  }
}

std::vector<Cell> expand_grid(const SweepConfig& config, DatasetCache* datasets,
                              StoredDatasets* stored) {
  const std::vector<Axis> problem = problem_axes(config);
  DataResolver data(config, datasets, stored);
  check_grid_size(config, problem);
  // Each entry's axes once: they do not depend on the problem.
  std::vector<std::vector<Axis>> entry_axes;
  for (const auto& entry : config.methods)
    entry_axes.push_back(method_axes(entry, steps_of(config, entry)));
  std::vector<Cell> cells;
  std::unordered_set<std::string> seen;
  Cell cell;
  for_each_combination(problem, 0, cell, [&](Cell& problem_cell) {
    for (std::size_t e = 0; e < config.methods.size(); ++e) {
      const MethodAxes& entry = config.methods[e];
      Cell method_cell = problem_cell;
      for_each_combination(entry_axes[e], 0, method_cell, [&](Cell& full) {
        Cell added = full;
        reset_unread(added);
        checked(config, entry, [&] { added.problem.validate(); });
        data.resolve(added, entry);
        added.sketch.resolve(problem_family(added.problem.generator).sketch_dim(added.problem),
                             added.problem.num_workers);
        validate(added, config, entry);
        added.key = hex_hash(cell_text(added, config.run));
        added.length = config.run.length();
        Cell unpriced = added;
        unpriced.network = CostModel{};
        added.trajectory = hex_hash(cell_text(unpriced, config.run));
        if (!seen.insert(added.key).second) return;
        added.index = static_cast<int>(cells.size());
        cells.push_back(std::move(added));
      });
    }
  });
  return cells;
}

}  // namespace istlab
