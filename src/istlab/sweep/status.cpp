// What --dry-run and `istlab status` print: the grid's axes, its size and memory, and which
// cells are done, missing, failed or corrupt.

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "istlab/io/files.hpp"
#include "istlab/sweep/manifest.hpp"
#include "istlab/sweep/store.hpp"
#include "istlab/sweep/sweep.hpp"

namespace istlab {
namespace {

// cells.csv holds a row of about 1 KB per cell, and a grid at most 100,000 cells.
constexpr std::uint64_t kMaxAssembledBytes = std::uint64_t{1} << 30;

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

// Empty when cells.csv lists exactly the stored cells of `cells`, else what differs: a shard
// run in the folder, or a writer that stopped midway, can leave outputs that describe
// other cells than the records do.
std::string stale_outputs(const std::vector<std::string_view>& stored,
                          const std::filesystem::path& experiment_dir) {
  const FileRead file = read_regular_file(experiment_dir / "cells.csv", kMaxAssembledBytes);
  if (file.problem != FileRead::Problem::kNone)
    return fmt::format(
        "not assembled: cells.csv {}; rerun the sweep to write it",
        file.problem == FileRead::Problem::kTooLarge ? "is too large to check" : "cannot be read");
  std::set<std::string_view> listed;  // the first field of every row after the header
  std::size_t rows = 0;
  for (std::size_t at = file.text.find('\n'); at != std::string::npos && at + 1 < file.text.size();
       at = file.text.find('\n', at + 1)) {
    const std::string_view row(file.text.data() + at + 1, file.text.size() - at - 1);
    listed.insert(row.substr(0, row.find_first_of(",\n")));
    ++rows;
  }
  std::size_t stored_and_listed = 0;
  for (const auto key : stored) stored_and_listed += listed.count(key);
  if (stored_and_listed == stored.size() && rows == stored.size()) return {};
  return fmt::format(
      "out of date: cells.csv has {} rows, listing {} of the {} stored cells; rerun the sweep "
      "(it skips stored cells) to assemble the outputs again",
      rows, stored_and_listed, stored.size());
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

void describe_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& out) {
  const std::vector<Cell> cells = shard_cells(config, options);
  std::set<std::string> problems;
  std::set<std::string> theories;
  int done = 0;
  const CellStore store(options.out_dir / config.experiment);
  for (const auto& cell : cells) {
    problems.insert(cell.problem_key());
    if (problem_family(cell.problem.generator).has_theory()) theories.insert(cell.theory_key());
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
  std::vector<std::string> corrupt;
  std::vector<std::string_view> stored;  // keys of the cells with an intact record
  for (const auto& cell : cells) {
    const RecordLookup found = store.lookup(cell);
    if (found.state == RecordState::kStored) {
      stored.push_back(cell.key);
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
      failed.emplace_back(&cell, *message);
    } else {
      missing.push_back(&cell);
    }
  }
  out << fmt::format("{}: {} cells: {} done, {} missing, {} failed, {} corrupt ({})\n",
                     config.experiment, cells.size(), stored.size(), missing.size(), failed.size(),
                     corrupt.size(), experiment_dir.string());
  for (const auto& [source, reason] : with_stored.stored_datasets->unread)
    out << fmt::format(
        "dataset {} cannot be read ({}); its cells are matched by the fingerprint in "
        "manifest.json, and a sweep needs the file back\n",
        source, reason);
  for (const auto& line : corrupt) out << "corrupt " << line << '\n';
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
    if (!std::filesystem::exists(experiment_dir / file))
      unassembled += (unassembled.empty() ? "" : ", ") + file;
  }
  if (!unassembled.empty())
    out << fmt::format("not assembled: {} missing; rerun the sweep to write them\n", unassembled);
  const std::string stale = unassembled.empty() ? stale_outputs(stored, experiment_dir) : "";
  if (!stale.empty()) out << stale << '\n';
  return static_cast<int>(missing.size() + failed.size() + corrupt.size() +
                          (unassembled.empty() && stale.empty() ? 0 : 1));
}

}  // namespace istlab
