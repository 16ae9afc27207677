#include "istlab/sweep/sweep.hpp"

#include <fmt/core.h>
#include <sched.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "istlab/io/csv.hpp"
#include "istlab/io/files.hpp"
#include "istlab/problem/least_squares.hpp"
#include "istlab/run/run.hpp"
#include "istlab/sweep/manifest.hpp"
#include "istlab/sweep/record.hpp"
#include "istlab/sweep/store.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {
namespace {

using Clock = std::chrono::steady_clock;

// The datasets the cells read: where from, their size after preprocessing, and the
// fingerprint of the file(s) that is part of every cell key built on them.
nlohmann::json datasets_json(const std::vector<Cell>& cells, DatasetCache& datasets) {
  std::map<std::string, nlohmann::json> found;
  for (const auto& cell : cells) {
    const ProblemFamily& family = problem_family(cell.problem.generator);
    if (family.dataset == nullptr) continue;
    auto add = [&](const DatasetRequest& request) {
      if ((request.name.empty() && request.path.empty()) || found.count(request.key())) return;
      const auto data = datasets.get(request);
      found[request.key()] = {{"source", data->source},
                              {"samples", data->num_samples()},
                              {"features", data->num_features()},
                              {"fingerprint", datasets.fingerprint(request)}};
    };
    add(family.dataset(cell.problem));
    if (family.test_dataset != nullptr) add(family.test_dataset(cell.problem));
  }
  nlohmann::json list = nlohmann::json::array();
  for (auto& [key, entry] : found) {
    entry["request"] = key;
    list.push_back(std::move(entry));
  }
  return list;
}

// Each worker's sample count and label counts ("label:count ..."; none for real-valued
// targets, which `classes` holds as one class).
void add_data_facts(const LabelClasses& classes,
                    const std::vector<std::vector<std::int64_t>>& samples, ProblemFacts& facts) {
  const auto histograms =
      label_histograms(classes.class_of_sample, static_cast<int>(classes.values.size()), samples);
  for (std::size_t worker = 0; worker < samples.size(); ++worker) {
    facts.workers[worker].samples = static_cast<std::int64_t>(samples[worker].size());
    if (!classes.by_label) continue;
    std::string& text = facts.workers[worker].label_counts;
    for (std::size_t c = 0; c < classes.values.size(); ++c)
      if (histograms[worker][c] > 0)
        text += fmt::format("{}{}:{}", text.empty() ? "" : " ", format_number(classes.values[c]),
                            histograms[worker][c]);
  }
}

// ‖∇f_i(x*)‖² of every worker, their mean ζ², and a data family's samples and labels.
ProblemFacts problem_facts(const ProblemSpec& spec, const Quadratic& problem, const Dataset* data) {
  ProblemFacts facts;
  facts.workers.resize(problem.num_workers());
  tbb::parallel_for(0, problem.num_workers(), [&](int worker) {
    Vector gradient(problem.dim());
    problem.worker_gradient(worker, problem.solution(), gradient);
    facts.workers[worker].grad_norm2_at_optimum = gradient.squaredNorm();
  });
  for (const auto& worker : facts.workers) facts.zeta2 += worker.grad_norm2_at_optimum;
  facts.zeta2 /= problem.num_workers();
  if (data == nullptr) return facts;
  // (A quadratic keeps only its L_i and b_i: the split is drawn again, from the same seed.)
  const LabelClasses classes = dataset_classes(*data);
  add_data_facts(classes, worker_samples(spec, classes), facts);
  return facts;
}

// A network has no optimum to measure ζ² at: its workers' samples and labels only, from the
// split the network holds.
ProblemFacts network_facts(const NetworkProblem& network) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  ProblemFacts facts;
  facts.zeta2 = kNaN;
  facts.workers.resize(network.data.samples_of_worker.size());
  for (auto& worker : facts.workers) worker.grad_norm2_at_optimum = kNaN;
  LabelClasses classes;
  classes.values = network.label_values;
  classes.class_of_sample = network.data.class_of_sample;
  add_data_facts(classes, network.data.samples_of_worker, facts);
  return facts;
}

std::vector<Cell> shard_cells(const SweepConfig& config, const SweepOptions& options) {
  const Shard& shard = options.shard;
  std::vector<Cell> cells;
  for (auto& cell : expand_grid(config, options.datasets.get()))
    if (shard.contains(cell)) cells.push_back(std::move(cell));
  return cells;
}

// The cells that share one problem, in grid order.
std::vector<std::vector<const Cell*>> group_by_problem(const std::vector<const Cell*>& todo) {
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::vector<const Cell*>> groups;
  for (const Cell* cell : todo) {
    const auto [found, added] = index.emplace(cell->problem_key(), groups.size());
    if (added) groups.emplace_back();
    groups[found->second].push_back(cell);
  }
  return groups;
}

// One problem and each of its distinct (problem, sketch) theories, built when the first of
// its cells needs them and shared read-only by its cells. A problem or theory that fails
// fails only its own cells.
class ProblemWork {
 public:
  ProblemWork(const std::vector<const Cell*>& cells, DatasetCache& datasets) {
    // Large problems are built in parallel across their workers too.
    const ParallelFor tbb_for = [](int count, const std::function<void(int)>& body) {
      tbb::parallel_for(0, count, [&](int i) { body(i); });
    };
    const ProblemSpec& spec = cells.front()->problem;
    const ProblemFamily& family = problem_family(spec.generator);
    // A problem that fails SPEC §1's checks (e.g. a tridiagonal draw with a negative
    // diagonal at large s) fails its own cells; the rest of the grid still runs.
    try {
      const auto data = family.dataset ? datasets.get(family.dataset(spec)) : nullptr;
      if (family.trains_network()) {
        const DatasetRequest test = family.test_dataset(spec);
        const bool has_test = !test.name.empty() || !test.path.empty();
        network_.emplace(
            family.make_network(spec, {tbb_for, data, has_test ? datasets.get(test) : nullptr}));
        facts_ = network_facts(*network_);
        return;
      }
      problem_.emplace(make_problem(spec, tbb_for, data.get()));
      facts_ = problem_facts(spec, *problem_, data.get());
    } catch (const std::exception& error) {
      problem_error_ = fmt::format("cannot build the problem '{}': {}",
                                   cells.front()->problem_key(), error.what());
      return;
    }
    std::vector<const Cell*> owners;
    for (const Cell* cell : cells)
      if (theory_index_.emplace(cell->theory_key(), owners.size()).second) owners.push_back(cell);
    theories_.resize(owners.size());
    theory_errors_.resize(owners.size());
    if (!theory_unavailable_reason(cells.front()->problem).empty()) return;
    tbb::parallel_for(0, static_cast<int>(owners.size()), [&](int t) {
      try {
        theories_[t].emplace(compute_theory(*problem_, owners[t]->sketch));
      } catch (const std::exception& error) {
        theory_errors_[t] = error.what();
      }
    });
  }

  // The problem; throws the reason it could not be built.
  const Quadratic& problem() const {
    if (!problem_) throw std::runtime_error(problem_error_);
    return *problem_;
  }
  // A network family's problem, or null (for a quadratic, or one that could not be built).
  const NetworkProblem* network() const { return network_ ? &*network_ : nullptr; }
  // The cell's theory, or null where it is not computed or failed.
  const Theory* theory(const Cell& cell) const {
    const auto& theory = theories_[theory_index_.at(cell.theory_key())];
    return theory ? &*theory : nullptr;
  }
  const std::string& theory_error(const Cell& cell) const {
    return theory_errors_[theory_index_.at(cell.theory_key())];
  }
  const ProblemFacts& facts() const { return facts_; }

 private:
  std::optional<Quadratic> problem_;
  std::optional<NetworkProblem> network_;
  ProblemFacts facts_;
  std::string problem_error_;
  std::unordered_map<std::string, std::size_t> theory_index_;
  std::vector<std::optional<Theory>> theories_;
  std::vector<std::string> theory_errors_;
};

// One run, and what every cell priced from it needs for its record.
struct Trajectory {
  RunResult run;
  double step_size = 0.0;
  const Theory* theory = nullptr;
  Vector solution;  // empty for a network
  const Vector* fixed_point = nullptr;
};

Trajectory network_run(const Cell& cell, const NetworkProblem& network,
                       const RunOptions& run_options) {
  Trajectory trajectory;
  trajectory.step_size = cell.step_size(1.0, 1.0);  // absolute: the grid refuses relative ones
  trajectory.run =
      run_network(network, network_round_spec(cell.method, cell.sketch, trajectory.step_size),
                  cell.seed, run_options);
  return trajectory;
}

Trajectory quadratic_run(const Cell& cell, const ProblemWork& work, const RunOptions& run_options) {
  Trajectory trajectory;
  const Quadratic& problem = work.problem();
  trajectory.theory = work.theory(cell);
  if (cell.relative_step && trajectory.theory == nullptr)
    throw std::runtime_error(fmt::format("its relative step needs the theory, which failed: {}",
                                         work.theory_error(cell)));
  trajectory.step_size =
      trajectory.theory ? cell.step_size(trajectory.theory->gd_step, trajectory.theory->ist_step)
                        : cell.step_size(1.0, 1.0);
  const Sketcher sketcher(cell.sketch, problem);
  auto method = make_method(cell.method, problem, sketcher);
  if (has_fixed_point(cell.method) && trajectory.theory)
    trajectory.fixed_point = &trajectory.theory->fixed_point;
  trajectory.run = run_method(problem, sketcher, *method, trajectory.step_size, cell.seed,
                              run_options, trajectory.fixed_point);
  trajectory.solution = problem.solution();
  return trajectory;
}

// Runs cells that share one trajectory (they differ only in their network model) once, and
// stores each one's record, priced on its own network, or the failure they share; returns
// their statuses, or nothing when the run was interrupted (an interrupted run is discarded).
// A store that cannot be written (disk full, file-size limit) ends the sweep.
std::optional<std::vector<std::string>> run_cells_of_trajectory(
    const std::vector<const Cell*>& cells, const ProblemWork& work, const SweepConfig& config,
    const SweepOptions& options, const CellStore& store) {
  std::optional<Trajectory> trajectory;
  std::string failure;
  try {
    RunOptions run_options = config.run;
    run_options.interrupt = options.interrupt;
    run_options.cost = cells.front()->network;
    run_options.keep_round_counts = cells.size() > 1;
    trajectory.emplace(work.network() ? network_run(*cells.front(), *work.network(), run_options)
                                      : quadratic_run(*cells.front(), work, run_options));
    if (trajectory->run.status == RunStatus::kInterrupted) return std::nullopt;
  } catch (const std::exception& error) {
    trajectory.reset();
    failure = error.what();
  }
  std::vector<std::string> statuses;
  for (const Cell* cell : cells) {
    if (!trajectory) {
      store.save_failure(*cell, failure);
      statuses.emplace_back("failed");
      continue;
    }
    if (cells.size() > 1) retime(trajectory->run, cell->network);
    const CellRecord record =
        make_record(*cell, trajectory->step_size, trajectory->run, trajectory->theory,
                    trajectory->solution, trajectory->fixed_point, work.facts());
    store.save(*cell, record);
    statuses.push_back(record.status);
  }
  return statuses;
}

// A problem's cells grouped by trajectory, in grid order. With run.time_budget a cell's
// network decides when it stops, so every cell runs on its own.
std::vector<std::vector<const Cell*>> group_by_trajectory(const std::vector<const Cell*>& cells,
                                                          const SweepConfig& config) {
  std::vector<std::vector<const Cell*>> groups;
  std::unordered_map<std::string, std::size_t> index;
  for (const Cell* cell : cells) {
    const std::string key = config.run.time_budget > 0.0 ? cell->key : cell->trajectory;
    const auto [found, added] = index.emplace(key, groups.size());
    if (added) groups.emplace_back();
    groups[found->second].push_back(cell);
  }
  return groups;
}

}  // namespace

namespace {

// The lock SweepOptions::lock asks for, or none.
std::shared_ptr<FolderLock> lock_folder(const SweepConfig& config, const SweepOptions& options) {
  using Lock = SweepOptions::Lock;
  if (options.lock == Lock::kNone) return nullptr;
  const bool slice = options.lock == Lock::kShardOrFolder && options.shard.count > 1;
  return std::make_shared<FolderLock>(
      options.out_dir / config.experiment,
      slice ? fmt::format(".lock.{}-of-{}", options.shard.index, options.shard.count) : ".lock");
}

// The cells without an intact stored record (all of them with --force); a corrupt record
// is named on `log` and its cell rerun.
std::vector<const Cell*> cells_to_run(const std::vector<Cell>& cells, const CellStore& store,
                                      bool force, std::ostream& log) {
  std::vector<const Cell*> todo;
  for (const auto& cell : cells) {
    const RecordLookup found = force ? RecordLookup{} : store.lookup(cell);
    if (found.state == RecordState::kStored) continue;
    if (found.state == RecordState::kCorrupt)
      log << fmt::format("istlab: corrupt record {}: {}; it will be rerun\n",
                         store.record_path(cell).string(), found.corruption);
    todo.push_back(&cell);
  }
  return todo;
}

}  // namespace

int thread_count(const SweepOptions& options) {
  if (options.threads > 0) return options.threads;
  // The cores this process may run on: under mpirun or taskset that is fewer than the
  // machine's, and more threads than cores only contend.
  cpu_set_t cores;
  if (::sched_getaffinity(0, sizeof cores, &cores) == 0) return std::max(1, CPU_COUNT(&cores));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

SweepSummary run_cells(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  const auto start = Clock::now();
  const std::vector<Cell> cells = shard_cells(config, options);
  check_feasible(config, cells, thread_count(options), options.datasets->bytes());
  SweepSummary summary;
  summary.lock = lock_folder(config, options);
  summary.started_at = iso_time(std::chrono::system_clock::now());
  summary.directory = options.out_dir / config.experiment;
  summary.cells = static_cast<int>(cells.size());
  const CellStore store(summary.directory);
  // Files a killed or failed process was writing: it will never rename them into place.
  remove_stale_temporaries(summary.directory);
  remove_stale_temporaries(summary.directory / "cells");

  const std::vector<const Cell*> todo = cells_to_run(cells, store, options.force, log);
  summary.skipped = static_cast<int>(cells.size() - todo.size());
  const auto groups = group_by_problem(todo);
  summary.problems = static_cast<int>(groups.size());
  Progress progress(static_cast<int>(todo.size()), options.progress, log);
  std::mutex summary_mutex;
  auto interrupted = [&] { return options.interrupt != nullptr && options.interrupt->load(); };
  auto count = [&](const std::string& status) {
    {
      std::lock_guard lock(summary_mutex);
      ++summary.ran;
      ++summary.by_status[status];
      if (status == "failed") ++summary.failed;
    }
    progress.cell_done(status);
  };

  // Problems are built when their first cell runs and released after their last, one
  // group per thread at a time: isolation keeps a thread waiting inside its group from
  // starting another group, so at most `threads` problems are held at once.
  if (options.cells_running) options.cells_running->store(true);
  tbb::task_arena arena(thread_count(options));
  arena.execute([&] {
    tbb::parallel_for(std::size_t{0}, groups.size(), [&](std::size_t g) {
      if (interrupted()) return;
      tbb::this_task_arena::isolate([&] {
        const ProblemWork work(groups[g], *options.datasets);
        const auto trajectories = group_by_trajectory(groups[g], config);
        tbb::parallel_for(std::size_t{0}, trajectories.size(), [&](std::size_t t) {
          if (interrupted()) return;
          if (const auto statuses =
                  run_cells_of_trajectory(trajectories[t], work, config, options, store))
            for (const auto& status : *statuses) count(status);
        });
      });
    });
  });
  if (options.cells_running) options.cells_running->store(false);
  summary.interrupted = interrupted();
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

std::vector<std::string> assemble_outputs(const SweepConfig& config, const SweepOptions& options,
                                          const SweepSummary& summary) {
  std::vector<Cell> cells = shard_cells(config, options);
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) { return a.key < b.key; });
  const std::filesystem::path directory = options.out_dir / config.experiment;
  const CellStore store(directory);
  std::string trace = csv_row(trace_columns());
  std::string summary_csv = csv_row(summary_columns());
  std::string timing = csv_row(timing_columns());
  std::string iterates = csv_row(iterate_columns());
  std::string problems_csv = csv_row(problem_columns());
  std::set<std::string> described;  // problems whose rows are in problems_csv
  std::vector<std::string> missing;
  std::map<std::string, int> by_status;
  for (const auto& cell : cells) {
    const RecordLookup found = store.lookup(cell);
    const auto& record = found.record;
    if (!record) {
      missing.push_back(cell.key);
      ++by_status[found.state == RecordState::kCorrupt ? "corrupt"
                  : store.failure(cell)                ? "failed"
                                                       : "missing"];
      continue;
    }
    trace += record->trace_rows;
    summary_csv += record->summary_row;
    timing += record->timing_rows;
    iterates += record->iterate_rows;
    if (described.insert(cell.problem_key()).second) problems_csv += record->problem_rows;
    ++by_status[record->status];
  }
  std::filesystem::create_directories(directory);
  // Atomic but not fsynced: these files are assembled from the cell store, which is not
  // fsynced either, and any run (or `istlab merge`) rewrites them from it. Fsyncing cost
  // milliseconds per file, a few percent of a quick sweep.
  write_file_atomically(directory / "trace.csv", trace, /*durable=*/false);
  write_file_atomically(directory / "cells.csv", summary_csv, /*durable=*/false);
  write_file_atomically(directory / "timing.csv", timing, /*durable=*/false);
  write_file_atomically(directory / "problems.csv", problems_csv, /*durable=*/false);
  if (config.run.record_iterates)
    write_file_atomically(directory / "iterates.csv", iterates, /*durable=*/false);

  std::set<std::string> problems;
  for (const auto& cell : cells) problems.insert(cell.problem_key());
  write_manifest(
      config, options, directory,
      {{"cells", cells.size()},
       {"distinct_problems", problems.size()},
       {"cells_by_status", by_status},
       {"datasets", datasets_json(cells, *options.datasets)},
       {"started_at", summary.started_at.empty() ? iso_time(std::chrono::system_clock::now())
                                                 : summary.started_at},
       {"this_run",
        {{"ran", summary.ran}, {"skipped", summary.skipped}, {"seconds", summary.seconds}}}});
  return missing;
}

SweepSummary run_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  SweepSummary summary = run_cells(config, options, log);
  if (!summary.interrupted) assemble_outputs(config, options, summary);
  summary.lock.reset();  // the folder is another process's to write now
  return summary;
}

namespace {

std::string joined(const std::vector<Value>& values) {
  std::string text;
  for (const auto& value : values) text += (text.empty() ? "" : ", ") + format_value(value);
  return text;
}

// The axes --dry-run lists: every problem parameter, the seeds, each methods entry.
void describe_axes(const SweepConfig& config, std::ostream& out) {
  auto zipped = [&](const std::string& key) {
    for (const auto& group : config.zip)
      if (std::find(group.begin(), group.end(), key) != group.end())
        return std::string("  (zipped)");
    return std::string();
  };
  auto line = [&](const std::string& key, const std::string& values) {
    out << fmt::format("  {:<32} {}{}\n", key, values, zipped(key));
  };
  auto seeds = [](const std::vector<std::uint64_t>& list) {
    std::vector<Value> values;
    for (const auto seed : list) values.emplace_back(static_cast<std::int64_t>(seed));
    return values;
  };
  out << "axes:\n";
  // The parameters given, and those a swept generator reads.
  const auto generators = SweepConfig::values_of(config.problem, problem_parameters().front());
  for (const auto& parameter : problem_parameters()) {
    bool read = config.problem.count(parameter.name) > 0;
    for (const auto& generator : generators)
      read = read || problem_family(text_of(generator)).reads(parameter.name);
    std::string values = joined(SweepConfig::values_of(config.problem, parameter));
    if (parameter.name == "dim" && !config.problem.count("dim"))
      for (const auto& generator : generators)
        if (problem_family(text_of(generator)).dataset != nullptr)
          values = fmt::format("{} (for {}: the dataset's features)",
                               generators.size() > 1 ? values : "-", text_of(generator));
    if (read) line("problem." + parameter.name, values);
  }
  if (!config.problem_seed.empty()) line("problem.seed", joined(seeds(config.problem_seed)));
  if (!config.network.empty())
    for (const auto& parameter : cost_parameters())
      line("network." + parameter.name, joined(SweepConfig::values_of(config.network, parameter)));
  line("seeds", joined(seeds(config.seeds)));
  for (const auto& entry : config.methods) {
    std::string text;
    for (const auto& parameter : method_parameters())
      text += fmt::format("{} {} | ", parameter.name,
                          joined(SweepConfig::values_of(entry.values, parameter)));
    for (const auto& parameter : sketch_parameters())
      text += fmt::format("{} {} | ", parameter.name,
                          joined(SweepConfig::values_of(entry.values, parameter)));
    const StepSizeAxis& steps = entry.step_size ? *entry.step_size : *config.step_size;
    std::vector<Value> step_values(steps.values.begin(), steps.values.end());
    line(entry.where,
         text + fmt::format("step_size {} {}", steps.relative ? "relative" : "absolute",
                            joined(step_values)));
  }
}

}  // namespace

void describe_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& out) {
  const std::vector<Cell> cells = shard_cells(config, options);
  std::set<std::string> problems;
  std::set<std::string> theories;
  int done = 0;
  const CellStore store(options.out_dir / config.experiment);
  for (const auto& cell : cells) {
    problems.insert(cell.problem_key());
    if (problem_family(cell.problem.generator).theory_applies) theories.insert(cell.theory_key());
    done += store.has(cell) ? 1 : 0;  // a corrupt record is not done
  }
  out << fmt::format("{}: {} cells{}, {} distinct problems, {} distinct theories\n",
                     config.experiment, cells.size(),
                     options.shard.count > 1
                         ? fmt::format(" in shard {}/{}", options.shard.index, options.shard.count)
                         : "",
                     problems.size(), theories.size());
  describe_axes(config, out);
  const int threads = thread_count(options);
  const MemoryEstimate memory =
      estimate_sweep_bytes(cells, config.run, threads, options.datasets->bytes());
  out << fmt::format(
      "memory: about {} at the peak ({} bytes; {} problems at once on {} threads, {} while "
      "assembling{}); {} available\n",
      gib(memory.peak), memory.peak, memory.problems_at_once, threads, gib(memory.assembling),
      memory.datasets > 0 ? fmt::format("; datasets {}", gib(memory.datasets)) : "",
      gib(available_memory_bytes()));
  out << fmt::format("done: {} of {} cells already stored in {}\n", done, cells.size(),
                     (options.out_dir / config.experiment).string());
  check_feasible(config, cells, threads, options.datasets->bytes());
}

int report_status(const SweepConfig& config, const SweepOptions& options, std::ostream& out) {
  const std::vector<Cell> cells = shard_cells(config, options);
  const CellStore store(options.out_dir / config.experiment);
  std::vector<const Cell*> missing;
  std::vector<std::pair<const Cell*, std::string>> failed;
  std::vector<std::string> corrupt;
  int done = 0;
  for (const auto& cell : cells) {
    const RecordLookup found = store.lookup(cell);
    if (found.state == RecordState::kStored) {
      ++done;
    } else if (found.state == RecordState::kCorrupt) {
      corrupt.push_back(fmt::format("{}: {}", store.record_path(cell).string(), found.corruption));
    } else if (auto message = store.failure(cell)) {
      failed.emplace_back(&cell, *message);
    } else {
      missing.push_back(&cell);
    }
  }
  out << fmt::format("{}: {} cells: {} done, {} missing, {} failed, {} corrupt ({})\n",
                     config.experiment, cells.size(), done, missing.size(), failed.size(),
                     corrupt.size(), (options.out_dir / config.experiment).string());
  for (const auto& line : corrupt) out << "corrupt " << line << "; the next run reruns it\n";
  auto describe = [](const Cell& cell) {
    return fmt::format("{} {} {} {} step {}{} seed {}", cell.key, cell.problem_key(),
                       cell.method.name, name(cell.sketch.type), cell.relative_step ? "x" : "",
                       cell.step_value, cell.seed);
  };
  for (const auto& [cell, message] : failed)
    out << "failed  " << describe(*cell) << ": " << message << '\n';
  for (const Cell* cell : missing) out << "missing " << describe(*cell) << '\n';
  // The assembled files too: every cell can be stored while an interrupted assembly left
  // no trace.csv.
  std::string unassembled;
  for (const std::string file :
       {"trace.csv", "cells.csv", "timing.csv", "problems.csv", "manifest.json", "iterates.csv"}) {
    if (file == "iterates.csv" && !config.run.record_iterates) continue;
    if (!std::filesystem::exists(options.out_dir / config.experiment / file))
      unassembled += (unassembled.empty() ? "" : ", ") + file;
  }
  if (!unassembled.empty())
    out << fmt::format("not assembled: {} missing; rerun the sweep to write them\n", unassembled);
  return static_cast<int>(missing.size() + failed.size() + corrupt.size() +
                          (unassembled.empty() ? 0 : 1));
}

}  // namespace istlab
