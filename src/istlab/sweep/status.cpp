// What --dry-run and `istlab status` print: the grid's axes, its size and memory, and which
// cells are done, missing, failed or corrupt.

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "istlab/io/csv.hpp"
#include "istlab/io/files.hpp"
#include "istlab/problem/least_squares.hpp"
#include "istlab/sweep/lock.hpp"
#include "istlab/sweep/manifest.hpp"
#include "istlab/sweep/store.hpp"
#include "istlab/sweep/sweep.hpp"

namespace istlab {
namespace {

// cells.csv holds a row of about 1 KB per cell, and a grid at most 100,000 cells.
constexpr std::uint64_t kMaxAssembledBytes = std::uint64_t{1} << 30;

std::string joined(const std::vector<Value>& values) {
  std::string text;
  for (const auto& value : values) {
    const std::string shown = format_value(value);
    text += (text.empty() ? "" : ", ") + (shown.empty() ? std::string("-") : shown);
  }
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

// Empty when cells.csv has one row per cell of `cells`, a result exactly for the stored ones
// (the others are rows of status failed, missing or corrupt), else what differs: a shard run
// in the folder assembles its slice only, and a writer stopped midway leaves old outputs.
std::string stale_outputs(const std::vector<Cell>& cells, const std::set<std::string_view>& stored,
                          const std::filesystem::path& experiment_dir) {
  const FileRead file = read_regular_file(experiment_dir / "cells.csv", kMaxAssembledBytes);
  if (file.problem != FileRead::Problem::kNone)
    return fmt::format(
        "not assembled: cells.csv {}; rerun the sweep to write it",
        file.problem == FileRead::Problem::kTooLarge ? "is too large to check" : "cannot be read");
  std::map<std::string, bool> has_result;  // by the rows' cell_key
  std::size_t status_column = std::string::npos;
  std::string_view text = file.text;
  for (bool header = true; !text.empty(); header = false) {
    const auto end = std::min(text.find('\n'), text.size());
    const std::vector<std::string> fields = csv_fields(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    if (header) {
      const auto found = std::find(fields.begin(), fields.end(), "status");
      if (fields.front() != "cell_key" || found == fields.end())
        return "out of date: cells.csv has no cell_key and status columns; rerun the sweep";
      status_column = static_cast<std::size_t>(found - fields.begin());
      continue;
    }
    const std::string status = status_column < fields.size() ? fields[status_column] : "";
    has_result[fields.front()] = status != "failed" && status != "missing" && status != "corrupt";
  }
  std::size_t listed = 0;
  std::size_t stale = 0;  // rows that say result where there is none, or the other way round
  for (const auto& cell : cells) {
    const auto row = has_result.find(cell.key);
    if (row == has_result.end()) continue;
    ++listed;
    stale += row->second != (stored.count(cell.key) > 0) ? 1 : 0;
  }
  if (listed == cells.size() && has_result.size() == cells.size() && stale == 0) return {};
  return fmt::format(
      "out of date: cells.csv has {} rows, for {} of the {} cells{}; rerun the sweep (it skips "
      "stored cells) to assemble the outputs again",
      has_result.size(), listed, cells.size(),
      stale > 0 ? fmt::format(", {} of them not as stored now", stale) : "");
}

// The lines of a live run's .progress.json: its pid and running cells with their rounds;
// nothing when no process holds the folder's lock (the file of a killed run is stale).
std::string live_run(const std::filesystem::path& experiment_dir) {
  if (!folder_locked(experiment_dir)) return "";
  const FileRead file = read_regular_file(experiment_dir / ".progress.json", 1 << 20);
  std::string text = "running: another istlab process is writing this folder";
  try {
    const nlohmann::json progress = nlohmann::json::parse(file.text);
    text = fmt::format("running: pid {}, {} of {} cells of its run done",
                       progress.at("pid").get<long>(), progress.at("done").get<int>(),
                       progress.at("total").get<int>());
    for (const auto& cell : progress.at("running"))
      text +=
          fmt::format("\nrunning {}: round {} of {}, {:.1f} rounds/s, {:.0f} s so far",
                      cell.at("cell").get<std::string>(), cell.at("round").get<long>(),
                      cell.at("max_iters").get<long>(), cell.at("rounds_per_second").get<double>(),
                      cell.at("seconds").get<double>());
  } catch (const std::exception&) {  // (not written yet, or not istlab's: the lock says enough)
  }
  return escape_invalid_utf8(text) + "\n";
}

// The datasets the folder's manifest describes; none when it has no readable manifest.
StoredDatasets stored_datasets_of(const std::filesystem::path& experiment_dir) {
  const auto path = experiment_dir / "manifest.json";
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return {};
  try {
    return stored_datasets(read_manifest(path), path);
  } catch (const ConfigError&) {
    return {};  // (status then reads the files, as a sweep would)
  }
}

}  // namespace

namespace {

// The cells whose problem cannot be built because its split cannot be drawn, by reason: the
// draw is of label counts, cheap beside a run, so --dry-run makes it for every data problem.
std::vector<ReasonGroup> undrawable_splits(const std::vector<Cell>& cells, DatasetCache& datasets,
                                           int& cells_affected) {
  std::map<std::string, std::optional<std::string>> reason_of;  // by problem key
  std::vector<ReasonGroup> groups;
  cells_affected = 0;
  for (const auto& cell : cells) {
    const ProblemFamily& family = problem_family(cell.problem.generator);
    if (!family.dataset) continue;
    auto [found, added] = reason_of.emplace(cell.problem_key(), std::nullopt);
    if (added) {
      try {
        const auto data = datasets.get(family.dataset(cell.problem));
        worker_samples(cell.problem, dataset_classes(*data));
      } catch (const std::exception& error) {
        found->second = error.what();
      }
    }
    if (!found->second) continue;
    ++cells_affected;
    add_to_groups(groups, *found->second, cell);
  }
  return groups;
}

}  // namespace

void describe_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& out) {
  const std::vector<Cell> cells = shard_cells(config, options);
  std::set<std::string> problems;
  std::set<std::string> theories;
  int done = 0;
  int other_length = 0;
  const CellStore store(options.out_dir / config.experiment);
  for (const auto& cell : cells) {
    problems.insert(cell.problem_key());
    if (problem_family(cell.problem.generator).has_theory()) theories.insert(cell.theory_key());
    const RecordState state = store.lookup(cell).state;
    done += state == RecordState::kStored ? 1 : 0;  // a corrupt record is not done
    other_length += state == RecordState::kOtherLength ? 1 : 0;
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
  if (other_length > 0)
    out << fmt::format(
        "{} cells stored with another max_iters or max_seconds: a run goes on from their "
        "stored state where it can, else reruns them\n",
        other_length);
  int undrawable = 0;
  for (const auto& group : undrawable_splits(cells, *options.datasets, undrawable))
    out << "cannot be built: " << group.line() << '\n';
  if (undrawable > 0)
    out << fmt::format("{} of {} cells would fail: their split cannot be drawn\n", undrawable,
                       cells.size());
  check_feasible(config, cells, threads, options.datasets->bytes());
}

int report_status(const SweepConfig& config, const SweepOptions& options, std::ostream& out,
                  bool verbose) {
  const std::filesystem::path experiment_dir = options.out_dir / config.experiment;
  // A dataset file that moved since the run is described by the folder's manifest: its
  // cells' keys (which hold the data's fingerprint) come from there.
  SweepOptions with_stored = options;
  with_stored.stored_datasets =
      std::make_shared<StoredDatasets>(stored_datasets_of(experiment_dir));
  const std::vector<Cell> cells = shard_cells(config, with_stored);
  const CellStore store(experiment_dir);
  std::vector<const Cell*> missing;
  std::vector<std::pair<const Cell*, std::string>> failed;
  std::vector<ReasonGroup> failed_groups;
  std::vector<std::string> corrupt;
  std::set<std::string_view> stored;          // keys of the cells with an intact record
  std::map<std::int64_t, int> other_lengths;  // cells stored to another max_iters, by it
  for (const auto& cell : cells) {
    const RecordLookup found = store.lookup(cell);
    if (found.state == RecordState::kStored) {
      stored.insert(cell.key);
    } else if (found.state == RecordState::kOtherLength) {
      ++other_lengths[found.stored_length.max_iters];
      missing.push_back(&cell);
    } else if (const auto slot = store.blocked_slot(cell); !slot.empty()) {
      // (the sweep refuses to start while it is there: no run could store the cell)
      corrupt.push_back(
          fmt::format("{}: a folder stands where the cell's record belongs; "
                      "remove it (rm -r), or the next run refuses to start",
                      slot.string()));
    } else if (found.state == RecordState::kCorrupt) {
      corrupt.push_back(fmt::format("{}: {}; the next run reruns it",
                                    store.record_path(cell).string(), found.corruption));
    } else if (auto message = store.failure(cell)) {
      add_to_groups(failed_groups, *message, cell);
      failed.emplace_back(&cell, *message);
    } else {
      missing.push_back(&cell);
    }
  }
  out << fmt::format("{}: {} cells: {} done, {} missing, {} failed, {} corrupt ({})\n",
                     config.experiment, cells.size(), stored.size(), missing.size(), failed.size(),
                     corrupt.size(), experiment_dir.string());
  for (const auto& [max_iters, count] : other_lengths)
    out << fmt::format(
        "{} of the missing cells are stored with max_iters {} (the config has {}): a sweep {}\n",
        count, max_iters, config.run.max_iters,
        max_iters < config.run.max_iters
            ? "runs only their extra rounds, from the stored state, where it can"
            : "reruns them from round 0");
  const std::string live = live_run(experiment_dir);
  out << live;
  for (const auto& [source, reason] : with_stored.stored_datasets->unread)
    out << fmt::format(
        "dataset {} cannot be read ({}); its cells are matched by the fingerprint in "
        "manifest.json, and a sweep needs the file back\n",
        source, reason);
  // Compact by default: one line per reason (a file to act on per corrupt record, up to a
  // few); --verbose: every cell.
  constexpr std::size_t kCorruptShown = 5;
  for (std::size_t i = 0; i < corrupt.size(); ++i)
    if (verbose || i < kCorruptShown) out << "corrupt " << corrupt[i] << '\n';
  if (!verbose && corrupt.size() > kCorruptShown)
    out << fmt::format("corrupt: {} more (--verbose lists them)\n", corrupt.size() - kCorruptShown);
  if (verbose) {
    for (const auto& [cell, message] : failed)
      out << "failed  " << describe_cell(*cell) << ": " << message << '\n';
    for (const Cell* cell : missing) out << "missing " << describe_cell(*cell) << '\n';
  } else {
    for (const auto& group : failed_groups) out << "failed  " << group.line() << '\n';
    if (!missing.empty())
      out << fmt::format("missing {} cell{} (e.g. {}); a sweep runs them{}\n", missing.size(),
                         missing.size() == 1 ? "" : "s", describe_cell(*missing.front()),
                         missing.size() > 1 ? "; --verbose lists them" : "");
  }
  // The assembled files too: every cell can be stored while an interrupted assembly left
  // no trace.csv.
  std::string unassembled;
  for (const std::string file :
       {"trace.csv", "cells.csv", "timing.csv", "problems.csv", "manifest.json", "iterates.csv"}) {
    if (file == "iterates.csv" && !config.run.record_iterates) continue;
    if (!std::filesystem::exists(experiment_dir / file))
      unassembled += (unassembled.empty() ? "" : ", ") + file;
  }
  if (!unassembled.empty())
    out << fmt::format("not assembled: {} missing; {}\n", unassembled,
                       live.empty() ? "rerun the sweep to write them"
                                    : "the running sweep writes them when it ends");
  const std::string stale =
      unassembled.empty() && live.empty() ? stale_outputs(cells, stored, experiment_dir) : "";
  if (!stale.empty()) out << stale << '\n';
  return static_cast<int>(missing.size() + failed.size() + corrupt.size() +
                          (unassembled.empty() && stale.empty() ? 0 : 1));
}

}  // namespace istlab
