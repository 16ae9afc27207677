#include "istlab/sweep/sweep.hpp"

#include <fmt/core.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "istlab/io/build_info.hpp"
#include "istlab/io/csv.hpp"
#include "istlab/io/files.hpp"
#include "istlab/run/run.hpp"
#include "istlab/sweep/store.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string flag(bool value) { return value ? "true" : "false"; }

const std::vector<std::string> kParameterColumns = {
    "cell_key", "generator", "dim",    "num_workers",  "heterogeneity", "interpolation",
    "kappa",    "mu",        "seed",   "problem_seed", "repeat",       "method",        "sketch",
    "scale",    "rand_q",    "outer_sketch", "local_steps", "step_size", "relative_step"};
const std::vector<std::string> kTraceColumns = {"iter", "rel_err", "f_gap", "grad_norm2", "dist_fixed",
                                                "floats_up", "floats_down"};
const std::vector<std::string> kSummaryColumns = {
    "status",     "converged_on", "iterations", "rel_err",    "f_gap",       "grad_norm2",
    "dist_fixed", "floats_up",    "floats_down", "lambda_min", "lambda_max", "gd_step",
    "ist_step",   "ist_stability_limit", "ist_bias", "ist_relative_bias", "w_bar_psd",
    "w_bar_min_eigenvalue", "w_bar_max_eigenvalue"};
const std::vector<std::string> kTimingColumns = {"cell_key", "iter", "wall_s"};

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

std::vector<std::string> parameter_fields(const Cell& cell, double step_size) {
  return {cell.key,
          cell.problem.generator,
          std::to_string(cell.problem.dim),
          std::to_string(cell.problem.num_workers),
          format_number(cell.problem.heterogeneity),
          flag(cell.problem.interpolation),
          format_number(cell.problem.kappa),
          format_number(cell.problem.mu),
          std::to_string(cell.seed),
          std::to_string(cell.problem.seed),
          std::to_string(cell.repeat),
          cell.method.name,
          std::string(name(cell.sketch.type)),
          std::string(name(cell.sketch.scale)),
          std::to_string(cell.sketch.rand_q),
          flag(cell.method.outer_sketch),
          std::to_string(cell.method.local_steps),
          format_number(step_size),
          cell.relative_step ? format_number(cell.step_value) : ""};
}

// The rows a finished cell contributes to the CSV files. Iterate rows carry x* and x^∞
// (`fixed_point`, null when the cell has none) so plots can measure against both.
CellRecord make_record(const Cell& cell, double step_size, const RunResult& run, const Theory* theory,
                       const Vector& solution, const Vector* fixed_point) {
  const auto parameters = parameter_fields(cell, step_size);
  // Every trace row starts with the same parameter fields: format them once per cell.
  std::string parameter_prefix = csv_row(parameters);
  parameter_prefix.back() = ',';
  CellRecord record;
  for (const auto& row : run.trace) {
    record.trace_rows += parameter_prefix;
    record.trace_rows += csv_row({std::to_string(row.iter), format_number(row.rel_err), format_number(row.f_gap),
                                  format_number(row.grad_norm2), format_number(row.dist_fixed),
                                  format_number(row.floats_up), format_number(row.floats_down)});
    record.timing_rows += csv_row({cell.key, std::to_string(row.iter), format_number(row.wall_s)});
  }
  for (std::size_t r = 0; r < run.iterates.size(); ++r)
    for (Eigen::Index j = 0; j < run.iterates[r].size(); ++j)
      record.iterate_rows += csv_row({cell.key, std::to_string(run.trace[r].iter), std::to_string(j),
                                       format_number(run.iterates[r][j]), format_number(solution[j]),
                                       fixed_point ? format_number((*fixed_point)[j]) : ""});
  const TraceRow& last = run.trace.back();
  auto theory_value = [&](double Theory::*field) { return format_number(theory ? theory->*field : kNaN); };
  record.summary_row = csv_row(with(
      parameters,
      {std::string(name(run.status)), std::string(run.converged_on), std::to_string(run.iterations),
       format_number(last.rel_err), format_number(last.f_gap), format_number(last.grad_norm2),
       format_number(last.dist_fixed), format_number(last.floats_up), format_number(last.floats_down),
       theory_value(&Theory::lambda_min), theory_value(&Theory::lambda_max), theory_value(&Theory::gd_step),
       theory_value(&Theory::ist_step), theory_value(&Theory::ist_stability_limit), theory_value(&Theory::bias),
       theory_value(&Theory::relative_bias), theory ? flag(theory->w_bar_psd) : "",
       theory_value(&Theory::w_bar_min_eigenvalue), theory_value(&Theory::w_bar_max_eigenvalue)}));
  return record;
}

// The status field of a stored cells.csv row: the first field after the parameters
// (no field of a row contains a comma).
std::string status_of(const CellRecord& record) {
  std::size_t at = 0;
  for (std::size_t field = 0; field < kParameterColumns.size(); ++field) at = record.summary_row.find(',', at) + 1;
  return record.summary_row.substr(at, record.summary_row.find(',', at) - at);
}

std::string iso_time(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string host_cpu() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string gib(std::uint64_t bytes) {
  const double size = static_cast<double>(bytes);
  if (size < (1ull << 30)) return fmt::format("{:.1f} MiB", size / (1ull << 20));
  return fmt::format("{:.2f} GiB", size / (1ull << 30));
}

// Cells done / total, cells/s, ETA and statuses: redrawn in place on a terminal, a line
// every few seconds otherwise, nothing when quiet.
class Progress {
 public:
  Progress(int total, ProgressMode mode, std::ostream& log) : total_(total), log_(log) {
    if (mode == ProgressMode::kAuto) mode = ::isatty(STDERR_FILENO) ? ProgressMode::kTerminal : ProgressMode::kLines;
    mode_ = mode;
  }

  void cell_done(const std::string& status) {
    if (mode_ == ProgressMode::kQuiet || total_ == 0) return;
    std::lock_guard lock(mutex_);
    ++done_;
    ++statuses_[status];
    const auto now = Clock::now();
    const double since_print = std::chrono::duration<double>(now - last_print_).count();
    const double interval = mode_ == ProgressMode::kTerminal ? 0.1 : 5.0;
    if (done_ != total_ && since_print < interval) return;
    last_print_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
    std::string counts;
    for (const auto& [name, count] : statuses_) counts += fmt::format(" {} {}", count, name);
    const std::string text = fmt::format("  {}/{} cells, {:.1f} cells/s, ETA {:.0f} s |{}", done_, total_, rate,
                                         rate > 0 ? (total_ - done_) / rate : 0.0, counts);
    if (mode_ == ProgressMode::kTerminal) {
      log_ << '\r' << text << "\033[K" << (done_ == total_ ? "\n" : "") << std::flush;
    } else {
      log_ << text << '\n' << std::flush;
    }
  }

 private:
  int total_;
  ProgressMode mode_;
  std::ostream& log_;
  int done_ = 0;
  std::map<std::string, int> statuses_;
  std::mutex mutex_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_print_ = Clock::now();
};

nlohmann::json resolved_config(const SweepConfig& config) {
  using nlohmann::json;
  auto names = [](const auto& values) {
    json list = json::array();
    for (const auto& value : values) list.push_back(std::string(name(value)));
    return list;
  };
  auto steps = [](const StepSizeAxis& axis) { return json{{axis.relative ? "relative" : "absolute", axis.values}}; };
  json methods = json::array();
  for (const auto& entry : config.methods) {
    json item = {{"method", entry.method},         {"sketch", names(entry.sketch)},
                 {"scale", names(entry.scale)},    {"rand_q", entry.rand_q},
                 {"outer_sketch", entry.outer_sketch}, {"local_steps", entry.local_steps}};
    if (entry.step_size) item["step_size"] = steps(*entry.step_size);
    methods.push_back(item);
  }
  const RunOptions& run = config.run;
  json result = {
      {"experiment", config.experiment},
      {"description", config.description},
      {"problem",
       {{"generator", config.generator},
        {"dim", config.dim},
        {"num_workers", config.num_workers},
        {"heterogeneity", config.heterogeneity},
        {"interpolation", config.interpolation},
        {"kappa", config.kappa},
        {"mu", config.mu},
        {"seed", config.problem_seed}}},
      {"methods", methods},
      {"seeds", config.seeds},
      {"zip", config.zip},
      {"run",
       {{"max_iters", run.max_iters},
        {"tolerance", {{"rel_err", run.tolerance}, {"f_gap", run.f_gap_tolerance}, {"grad_norm2", run.grad_norm2_tolerance}}},
        {"floats_budget", run.floats_budget},
        {"max_seconds", run.max_seconds},
        {"divergence_factor", run.divergence_factor},
        {"record", {{"every", run.record_every}, {"log_points", run.record_log_points}}},
        {"record_iterates", run.record_iterates}}}};
  if (config.step_size) result["step_size"] = steps(*config.step_size);
  return result;
}

std::vector<Cell> shard_cells(const SweepConfig& config, const Shard& shard) {
  std::vector<Cell> cells;
  for (auto& cell : expand_grid(config))
    if (shard.contains(cell)) cells.push_back(std::move(cell));
  return cells;
}

// Refuses (exit 2) a grid whose largest cell cannot fit, or whose relative steps need a
// theory that is not computed for its problem.
void check_feasible(const SweepConfig& config, const std::vector<Cell>& cells) {
  const std::uint64_t available = available_memory_bytes();
  const Cell* largest = nullptr;
  std::uint64_t largest_bytes = 0;
  for (const auto& cell : cells) {
    const std::uint64_t bytes = estimate_cell_bytes(cell);
    if (bytes > largest_bytes) largest_bytes = bytes, largest = &cell;
    if (cell.relative_step) {
      const std::string reason = theory_unavailable_reason(cell.problem);
      if (!reason.empty())
        config.fail("step_size", fmt::format("relative step sizes need the theory of problem '{}', but {}; "
                                             "give absolute step sizes for it",
                                             cell.problem_key(), reason));
    }
  }
  if (largest != nullptr && available > 0 && largest_bytes > available)
    config.fail("problem", fmt::format("the largest cell ({}, method {}) needs about {} but this machine has {} "
                                       "available; reduce problem.dim or problem.num_workers",
                                       largest->problem_key(), largest->method.name, gib(largest_bytes), gib(available)));
}

void write_manifest(const SweepConfig& config, const SweepOptions& options, const std::filesystem::path& directory,
                    const nlohmann::json& counts) {
  const BuildInfo& build = build_info();
  nlohmann::json manifest = {
      {"experiment", config.experiment},
      {"config_path", config.path},
      {"config_hash", hex_hash(config.text)},
      {"config", resolved_config(config)},
      {"config_text", config.text},
      {"quick", config.quick},
      {"command_line", options.command_line},
      {"mode", options.mode},
      {"shard", fmt::format("{}/{}", options.shard.index, options.shard.count)},
      {"istlab_version", build.version},
      {"build_tag", CellStore::build_tag()},
      {"git_commit", build.git_commit},
      {"git_dirty", build.git_dirty},
      {"compiler", build.compiler},
      {"flags", build.flags},
      {"libraries", build.libraries},
      {"host_cpu", host_cpu()},
      {"threads", options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency())},
      {"finished_at", iso_time(std::chrono::system_clock::now())},
      {"files", config.run.record_iterates
                    ? std::vector<std::string>{"trace.csv", "cells.csv", "timing.csv", "iterates.csv"}
                    : std::vector<std::string>{"trace.csv", "cells.csv", "timing.csv"}}};
  manifest.update(counts);
  write_file_atomically(directory / "manifest.json", manifest.dump(2) + "\n", /*durable=*/false);
}

}  // namespace

bool Shard::contains(const Cell& cell) const {
  return count == 1 || static_cast<int>(stable_hash(cell.key) % static_cast<std::uint64_t>(count)) == index - 1;
}

Shard Shard::parse(const std::string& text) {
  Shard shard;
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    std::size_t used = 0;
    shard.index = std::stoi(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("junk");
    const std::string count = text.substr(slash + 1);
    shard.count = std::stoi(count, &used);
    if (used != count.size()) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("--shard {}: expected K/N, e.g. 1/4", text));
  }
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count)
    throw std::invalid_argument(fmt::format("--shard {}: need 1 <= K <= N", text));
  return shard;
}

std::uint64_t estimate_cell_bytes(const Cell& cell) {
  const double d = cell.problem.dim;
  const double n = cell.problem.num_workers;
  const double doubles_per_worker_vectors = d;  // b_i
  double problem = 0.0;
  double theory = 0.0;
  if (cell.problem.generator == "tridiagonal") {
    // One shared T and L̄ in CSR (value + column index per entry, row pointers), O(n)
    // scalars, and the vectors e_1, x*, x⁰, b̄, Diag(T).
    problem = 2 * (3 * d * 12 + (d + 1) * 4) + 3 * n * 8 + 5 * d * 8;
    theory = 2 * 3 * d * 8 + 10 * 3 * d * 12;  // one worker's moments; E[B̄], W̄ and its factorisation
  } else {
    problem = (n + 1) * d * d * 8 + 3 * d * d * 8 + n * doubles_per_worker_vectors * 8;  // + QR workspace
    theory = 2 * 3 * d * 8 + 5 * d * d * 8;  // one worker's moments; E[B̄], L̄E[B̄], W̄, eigensolver
  }
  const double support = cell.method.name == "gd" ? d : std::max(1.0, std::ceil(d / n));
  double method = n * support * (8 + 4) + d * 4;  // round sketch
  if (cell.method.name == "gd" || !cell.method.outer_sketch) method += n * d * 8;
  else method += 3 * n * support * 8;
  const double total = problem + theory + method;
  return total >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(total);
}

std::uint64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  const long pages = ::sysconf(_SC_AVPHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) : 0;
}

SweepSummary run_cells(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  const auto start = Clock::now();
  const std::vector<Cell> cells = shard_cells(config, options.shard);
  check_feasible(config, cells);
  SweepSummary summary;
  summary.started_at = iso_time(std::chrono::system_clock::now());
  summary.directory = options.out_dir / config.experiment;
  summary.cells = static_cast<int>(cells.size());
  const CellStore store(summary.directory);

  std::vector<const Cell*> todo;
  for (const auto& cell : cells) {
    if (!options.force && store.has(cell)) {
      ++summary.skipped;
    } else {
      todo.push_back(&cell);
    }
  }

  // Work done once: each distinct problem, then each distinct (problem, sketch) theory.
  std::unordered_map<std::string, int> problem_index;
  std::vector<const Cell*> problem_owner;
  std::unordered_map<std::string, int> theory_index;
  std::vector<const Cell*> theory_owner;
  for (const Cell* cell : todo) {
    if (problem_index.emplace(cell->problem_key(), static_cast<int>(problem_owner.size())).second)
      problem_owner.push_back(cell);
    if (theory_index.emplace(cell->theory_key(), static_cast<int>(theory_owner.size())).second)
      theory_owner.push_back(cell);
  }
  summary.problems = static_cast<int>(problem_owner.size());
  std::vector<std::optional<Quadratic>> problems(problem_owner.size());
  std::vector<std::string> problem_errors(problem_owner.size());
  std::vector<std::optional<Theory>> theories(theory_owner.size());
  std::vector<std::string> theory_errors(theory_owner.size());
  Progress progress(static_cast<int>(todo.size()), options.progress, log);
  std::mutex summary_mutex;
  auto interrupted = [&] { return options.interrupt != nullptr && options.interrupt->load(); };

  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  tbb::task_arena arena(std::max(threads, 1));
  // Large problems are built in parallel across their workers too.
  const ParallelFor tbb_for = [](int count, const std::function<void(int)>& body) {
    tbb::parallel_for(0, count, [&](int i) { body(i); });
  };
  arena.execute([&] {
    tbb::parallel_for(0, static_cast<int>(problems.size()), [&](int p) {
      if (interrupted()) return;
      // A problem that fails SPEC §1's checks (e.g. a tridiagonal draw with a negative
      // diagonal at large s) fails its own cells; the rest of the grid still runs.
      try {
        problems[p].emplace(make_problem(problem_owner[p]->problem, tbb_for));
      } catch (const std::invalid_argument& error) {
        problem_errors[p] = fmt::format("cannot build the problem '{}': {}", problem_owner[p]->problem_key(), error.what());
      }
    });
    tbb::parallel_for(0, static_cast<int>(theories.size()), [&](int t) {
      const Cell& owner = *theory_owner[t];
      const auto& problem = problems[problem_index.at(owner.problem_key())];
      if (interrupted() || !problem || !theory_unavailable_reason(owner.problem).empty()) return;
      try {
        theories[t].emplace(compute_theory(*problem, owner.sketch));
      } catch (const std::exception& error) {
        theory_errors[t] = error.what();
      }
    });
    tbb::parallel_for(0, static_cast<int>(todo.size()), [&](int c) {
      if (interrupted()) return;
      const Cell& cell = *todo[c];
      const int p = problem_index.at(cell.problem_key());
      const int t = theory_index.at(cell.theory_key());
      const Theory* theory = theories[t] ? &*theories[t] : nullptr;
      std::string status;
      try {
        if (!problems[p]) throw std::runtime_error(problem_errors[p]);
        const Quadratic& problem = *problems[p];
        if (cell.relative_step && theory == nullptr)
          throw std::runtime_error(fmt::format("its relative step needs the theory, which failed: {}", theory_errors[t]));
        // x^∞ and 1/λ_max(E[B̄]) describe IST's table form (SPEC §4). Without the outer
        // sketch the mean step is L̄E[C]x − b̄ = ∇f for unbiased sketches, so GD's unit applies
        // and there is no x^∞ to measure against; local steps keep IST's unit per step.
        const bool is_ist = cell.method.name == "ist";
        const bool ist_table_form = is_ist && cell.method.outer_sketch && cell.method.local_steps == 1;
        const bool ist_unit = is_ist && cell.method.outer_sketch;
        const double unit = cell.relative_step ? (ist_unit ? theory->ist_step : theory->gd_step) : 1.0;
        const double step_size = cell.step_value * unit;
        const Sketcher sketcher(cell.sketch, problem);
        auto method = make_method(cell.method, problem, sketcher);
        RunOptions run_options = config.run;
        run_options.interrupt = options.interrupt;
        const Vector* fixed_point = ist_table_form && theory ? &theory->fixed_point : nullptr;
        const RunResult run =
            run_method(problem, sketcher, *method, step_size, cell.seed, run_options, fixed_point);
        if (run.status == RunStatus::kInterrupted) return;
        store.save(cell, make_record(cell, step_size, run, theory, problem.solution(), fixed_point));
        status = name(run.status);
      } catch (const std::exception& error) {
        store.save_failure(cell, error.what());
        status = "failed";
      }
      {
        std::lock_guard lock(summary_mutex);
        ++summary.ran;
        ++summary.by_status[status];
        if (status == "failed") ++summary.failed;
      }
      progress.cell_done(status);
    });
  });
  summary.interrupted = interrupted();
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

std::vector<std::string> assemble_outputs(const SweepConfig& config, const SweepOptions& options,
                                          const SweepSummary& summary) {
  std::vector<Cell> cells = shard_cells(config, options.shard);
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) { return a.key < b.key; });
  const std::filesystem::path directory = options.out_dir / config.experiment;
  const CellStore store(directory);
  std::string trace = csv_row(with(kParameterColumns, kTraceColumns));
  std::string summary_csv = csv_row(with(kParameterColumns, kSummaryColumns));
  std::string timing = csv_row(kTimingColumns);
  std::string iterates = csv_row({"cell_key", "iter", "coordinate", "value", "x_star", "x_fixed"});
  std::vector<std::string> missing;
  std::map<std::string, int> by_status;
  for (const auto& cell : cells) {
    const auto record = store.load(cell);
    if (!record) {
      missing.push_back(cell.key);
      ++by_status[store.failure(cell) ? "failed" : "missing"];
      continue;
    }
    trace += record->trace_rows;
    summary_csv += record->summary_row;
    timing += record->timing_rows;
    iterates += record->iterate_rows;
    ++by_status[status_of(*record)];
  }
  std::filesystem::create_directories(directory);
  // Atomic but not fsynced: these files are assembled from the cell store, which is not
  // fsynced either, and any run (or `istlab merge`) rewrites them from it. Fsyncing cost
  // milliseconds per file, a few percent of a quick sweep.
  write_file_atomically(directory / "trace.csv", trace, /*durable=*/false);
  write_file_atomically(directory / "cells.csv", summary_csv, /*durable=*/false);
  write_file_atomically(directory / "timing.csv", timing, /*durable=*/false);
  if (config.run.record_iterates) write_file_atomically(directory / "iterates.csv", iterates, /*durable=*/false);

  std::set<std::string> problems;
  for (const auto& cell : cells) problems.insert(cell.problem_key());
  write_manifest(config, options, directory,
                 {{"cells", cells.size()},
                  {"distinct_problems", problems.size()},
                  {"cells_by_status", by_status},
                  {"started_at", summary.started_at.empty() ? iso_time(std::chrono::system_clock::now()) : summary.started_at},
                  {"this_run", {{"ran", summary.ran}, {"skipped", summary.skipped}, {"seconds", summary.seconds}}}});
  return missing;
}

SweepSummary run_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  SweepSummary summary = run_cells(config, options, log);
  if (!summary.interrupted) assemble_outputs(config, options, summary);
  return summary;
}

void describe_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& out) {
  const std::vector<Cell> cells = shard_cells(config, options.shard);
  std::set<std::string> problems;
  std::set<std::string> theories;
  std::uint64_t largest = 0;
  int done = 0;
  const CellStore store(options.out_dir / config.experiment);
  for (const auto& cell : cells) {
    problems.insert(cell.problem_key());
    theories.insert(cell.theory_key());
    largest = std::max(largest, estimate_cell_bytes(cell));
    done += store.has(cell) ? 1 : 0;
  }
  out << fmt::format("{}: {} cells{}, {} distinct problems, {} distinct theories\n", config.experiment, cells.size(),
                     options.shard.count > 1 ? fmt::format(" in shard {}/{}", options.shard.index, options.shard.count) : "",
                     problems.size(), theories.size());
  auto join = [](const auto& values) {
    std::string text;
    for (const auto& value : values) {
      std::ostringstream item;
      item << std::boolalpha << value;
      text += (text.empty() ? "" : ", ") + item.str();
    }
    return text;
  };
  auto zipped = [&](const std::string& key) {
    for (const auto& group : config.zip)
      if (std::find(group.begin(), group.end(), key) != group.end()) return std::string("  (zipped)");
    return std::string();
  };
  out << "axes:\n";
  auto axis = [&](const std::string& key, const std::string& values) {
    out << fmt::format("  {:<24} {}{}\n", key, values, zipped(key));
  };
  axis("problem.generator", join(config.generator));
  axis("problem.dim", join(config.dim));
  axis("problem.num_workers", join(config.num_workers));
  axis("problem.heterogeneity", join(config.heterogeneity));
  axis("problem.interpolation", join(std::vector<bool>(config.interpolation)));
  axis("problem.kappa", join(config.kappa));
  axis("problem.mu", join(config.mu));
  if (!config.problem_seed.empty()) axis("problem.seed", join(config.problem_seed));
  axis("seeds", join(config.seeds));
  for (const auto& entry : config.methods) {
    const StepSizeAxis& steps = entry.step_size ? *entry.step_size : *config.step_size;
    std::vector<std::string> sketches, scales;
    for (auto type : entry.sketch) sketches.emplace_back(name(type));
    for (auto scale : entry.scale) scales.emplace_back(name(scale));
    out << fmt::format("  {:<24} method {} | sketch {} | scale {} | step_size {} {}\n", entry.where, join(entry.method),
                       join(sketches), join(scales), steps.relative ? "relative" : "absolute", join(steps.values));
  }
  out << fmt::format("memory: the largest cell needs about {}; {} available\n", gib(largest),
                     gib(available_memory_bytes()));
  out << fmt::format("done: {} of {} cells already stored in {}\n", done, cells.size(),
                     (options.out_dir / config.experiment).string());
  check_feasible(config, cells);
}

int report_status(const SweepConfig& config, const SweepOptions& options, std::ostream& out) {
  const std::vector<Cell> cells = shard_cells(config, options.shard);
  const CellStore store(options.out_dir / config.experiment);
  std::vector<const Cell*> missing;
  std::vector<std::pair<const Cell*, std::string>> failed;
  int done = 0;
  for (const auto& cell : cells) {
    if (store.has(cell)) {
      ++done;
    } else if (auto message = store.failure(cell)) {
      failed.emplace_back(&cell, *message);
    } else {
      missing.push_back(&cell);
    }
  }
  out << fmt::format("{}: {} cells: {} done, {} missing, {} failed ({})\n", config.experiment, cells.size(), done,
                     missing.size(), failed.size(), (options.out_dir / config.experiment).string());
  auto describe = [](const Cell& cell) {
    return fmt::format("{} {} {} {} step {}{} seed {}", cell.key, cell.problem_key(), cell.method.name,
                       name(cell.sketch.type), cell.relative_step ? "x" : "", cell.step_value, cell.seed);
  };
  for (const auto& [cell, message] : failed) out << "failed  " << describe(*cell) << ": " << message << '\n';
  for (const Cell* cell : missing) out << "missing " << describe(*cell) << '\n';
  return static_cast<int>(missing.size() + failed.size());
}

std::vector<std::string> merge_shards(const std::vector<std::filesystem::path>& shard_dirs,
                                      const SweepOptions& options, std::ostream& log) {
  std::optional<SweepConfig> config;
  std::string config_hash;
  std::vector<std::filesystem::path> experiment_dirs;
  for (const auto& shard_dir : shard_dirs) {
    if (!std::filesystem::is_directory(shard_dir))
      throw ConfigError(fmt::format("{}: not a folder of shard results", shard_dir.string()));
    for (const auto& entry : std::filesystem::directory_iterator(shard_dir)) {
      const auto manifest_path = entry.path() / "manifest.json";
      if (!std::filesystem::exists(manifest_path)) continue;
      std::ifstream file(manifest_path);
      nlohmann::json manifest;
      try {
        manifest = nlohmann::json::parse(file);
      } catch (const nlohmann::json::exception& error) {
        throw ConfigError(fmt::format("{}: not a manifest: {}", manifest_path.string(), error.what()));
      }
      const std::string hash = manifest.at("config_hash").get<std::string>();
      const std::string tag = manifest.value("build_tag", "");
      if (tag != CellStore::build_tag())
        throw ConfigError(fmt::format("{}: made by istlab build {} ({}), this is build {} ({}); merge with the "
                                      "build that ran the shards, or rerun them with this one",
                                      manifest_path.string(), tag, manifest.value("git_commit", "?"),
                                      CellStore::build_tag(), build_info().git_commit));
      if (!config) {
        config = parse_config(manifest.at("config_text").get<std::string>(), manifest.at("config_path").get<std::string>(),
                              manifest.value("quick", false));
        config_hash = hash;
      } else if (hash != config_hash || manifest.at("experiment") != config->experiment) {
        throw ConfigError(fmt::format("{}: experiment {} with config hash {} differs from the first shard's {} ({})",
                                      manifest_path.string(), manifest.at("experiment").dump(), hash,
                                      config->experiment, config_hash));
      }
      experiment_dirs.push_back(entry.path());
    }
  }
  if (!config) throw ConfigError("merge: no shard folder holds an experiment with a manifest.json");
  const CellStore store(options.out_dir / config->experiment);
  int copied = 0;
  for (const auto& dir : experiment_dirs) {
    if (std::filesystem::equivalent(dir, options.out_dir / config->experiment)) continue;
    copied += store.import_from(dir);
  }
  SweepOptions merged = options;
  merged.shard = Shard{};
  merged.mode = fmt::format("merge of {} shard folders", experiment_dirs.size());
  SweepSummary summary;
  const auto missing = assemble_outputs(*config, merged, summary);
  log << fmt::format("merged {} cell records from {} folders into {}; {} cells missing\n", copied,
                     experiment_dirs.size(), (options.out_dir / config->experiment).string(), missing.size());
  for (const auto& key : missing) log << "missing " << key << '\n';
  return missing;
}

}  // namespace istlab
