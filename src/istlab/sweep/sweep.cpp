#include "istlab/sweep/sweep.hpp"

#include <fmt/core.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "istlab/io/build_info.hpp"
#include "istlab/io/csv.hpp"
#include "istlab/io/files.hpp"
#include "istlab/run/run.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {
namespace {

using Clock = std::chrono::steady_clock;

struct CellOutcome {
  RunResult run;
  double step_size = 0.0;  // absolute
};

std::string flag(bool value) { return value ? "true" : "false"; }

const std::vector<std::string> kParameterColumns = {
    "cell_key", "generator",  "dim",       "num_workers", "heterogeneity", "interpolation",
    "kappa",    "mu",         "seed",      "method",      "sketch",        "scale",
    "rand_q",   "outer_sketch", "local_steps", "step_size", "relative_step"};

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
          cell.method.name,
          std::string(name(cell.sketch.type)),
          std::string(name(cell.sketch.scale)),
          std::to_string(cell.sketch.rand_q),
          flag(cell.method.outer_sketch),
          std::to_string(cell.method.local_steps),
          format_number(step_size),
          cell.relative_step ? format_number(cell.step_value) : ""};
}

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
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

// Cells done / total with an ETA: redrawn in place on a terminal, a line every few
// seconds otherwise, nothing when quiet.
class Progress {
 public:
  Progress(int total, ProgressMode mode, std::ostream& log) : total_(total), log_(log) {
    if (mode == ProgressMode::kAuto) mode = ::isatty(STDERR_FILENO) ? ProgressMode::kTerminal : ProgressMode::kLines;
    mode_ = mode;
  }

  void cell_done() {
    const int done = ++done_;
    if (mode_ == ProgressMode::kQuiet) return;
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    const double since_print = std::chrono::duration<double>(now - last_print_).count();
    const double interval = mode_ == ProgressMode::kTerminal ? 0.1 : 5.0;
    if (done != total_ && since_print < interval) return;
    last_print_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double eta = done > 0 ? elapsed / done * (total_ - done) : 0.0;
    const std::string text = fmt::format("  {}/{} cells, {:.1f} cells/s, ETA {:.0f} s", done, total_,
                                         elapsed > 0 ? done / elapsed : 0.0, eta);
    if (mode_ == ProgressMode::kTerminal) {
      log_ << '\r' << text << "\033[K" << (done == total_ ? "\n" : "") << std::flush;
    } else {
      log_ << text << '\n' << std::flush;
    }
  }

 private:
  int total_;
  ProgressMode mode_;
  std::ostream& log_;
  std::atomic<int> done_{0};
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
  auto steps = [](const StepSizeAxis& axis) {
    return json{{axis.relative ? "relative" : "absolute", axis.values}};
  };
  json methods = json::array();
  for (const auto& entry : config.methods) {
    json item = {{"method", entry.method},         {"sketch", names(entry.sketch)},
                 {"scale", names(entry.scale)},    {"rand_q", entry.rand_q},
                 {"outer_sketch", entry.outer_sketch}, {"local_steps", entry.local_steps}};
    if (entry.step_size) item["step_size"] = steps(*entry.step_size);
    methods.push_back(item);
  }
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
        {"mu", config.mu}}},
      {"methods", methods},
      {"seeds", config.seeds},
      {"run",
       {{"max_iters", config.run.max_iters},
        {"tolerance", config.run.tolerance},
        {"floats_budget", config.run.floats_budget},
        {"divergence_factor", config.run.divergence_factor},
        {"record", {{"every", config.run.record_every}, {"log_points", config.run.record_log_points}}}}}};
  if (config.step_size) result["step_size"] = steps(*config.step_size);
  return result;
}

}  // namespace

void describe_sweep(const SweepConfig& config, const std::vector<Cell>& cells, std::ostream& out) {
  std::set<std::string> problems;
  std::set<std::string> theories;
  for (const auto& cell : cells) {
    problems.insert(cell.problem_key());
    theories.insert(cell.theory_key());
  }
  out << fmt::format("{}: {} cells, {} distinct problems, {} distinct theories\n", config.experiment,
                     cells.size(), problems.size(), theories.size());
  auto axis = [&](const std::string& key, std::size_t count) {
    out << fmt::format("  {:<24} {} value{}\n", key, count, count == 1 ? "" : "s");
  };
  axis("problem.generator", config.generator.size());
  axis("problem.dim", config.dim.size());
  axis("problem.num_workers", config.num_workers.size());
  axis("problem.heterogeneity", config.heterogeneity.size());
  axis("problem.interpolation", config.interpolation.size());
  axis("seeds", config.seeds.size());
  for (const auto& entry : config.methods) {
    const StepSizeAxis& steps = entry.step_size ? *entry.step_size : *config.step_size;
    out << fmt::format("  {:<24} {} method x {} sketch x {} scale x {} step size ({})\n", entry.where,
                       entry.method.size(), entry.sketch.size(), entry.scale.size(), steps.values.size(),
                       steps.relative ? "relative" : "absolute");
  }
}

SweepSummary run_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  const auto started_at = std::chrono::system_clock::now();
  const auto start = Clock::now();
  const std::vector<Cell> cells = expand_grid(config);
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  tbb::task_arena arena(std::max(threads, 1));

  // Work done once: each distinct problem, then each distinct (problem, sketch) theory.
  std::unordered_map<std::string, int> problem_index;
  std::vector<const Cell*> problem_owner;
  std::unordered_map<std::string, int> theory_index;
  std::vector<const Cell*> theory_owner;
  for (const auto& cell : cells) {
    if (problem_index.emplace(cell.problem_key(), static_cast<int>(problem_owner.size())).second)
      problem_owner.push_back(&cell);
    if (theory_index.emplace(cell.theory_key(), static_cast<int>(theory_owner.size())).second)
      theory_owner.push_back(&cell);
  }
  std::vector<std::optional<Quadratic>> problems(problem_owner.size());
  std::vector<std::optional<Theory>> theories(theory_owner.size());
  std::vector<CellOutcome> outcomes(cells.size());
  Progress progress(static_cast<int>(cells.size()), options.progress, log);

  arena.execute([&] {
    tbb::parallel_for(0, static_cast<int>(problems.size()), [&](int p) {
      try {
        problems[p].emplace(make_problem(problem_owner[p]->problem));
      } catch (const std::invalid_argument& error) {
        config.fail("problem", fmt::format("cannot build the problem '{}': {}", problem_owner[p]->problem_key(), error.what()));
      }
    });
    tbb::parallel_for(0, static_cast<int>(theories.size()), [&](int t) {
      const Cell& owner = *theory_owner[t];
      theories[t].emplace(compute_theory(*problems[problem_index.at(owner.problem_key())], owner.sketch));
    });
    tbb::parallel_for(0, static_cast<int>(cells.size()), [&](int c) {
      const Cell& cell = cells[c];
      const Quadratic& problem = *problems[problem_index.at(cell.problem_key())];
      const Theory& theory = *theories[theory_index.at(cell.theory_key())];
      const bool is_ist = cell.method.name == "ist";
      const double unit = is_ist ? theory.ist_step : theory.gd_step;
      CellOutcome& outcome = outcomes[c];
      outcome.step_size = cell.relative_step ? cell.step_value * unit : cell.step_value;
      const Sketcher sketcher(cell.sketch, problem);
      auto method = make_method(cell.method, problem, sketcher);
      outcome.run = run_method(problem, sketcher, *method, outcome.step_size, cell.seed, config.run,
                               is_ist ? &theory.fixed_point : nullptr);
      progress.cell_done();
    });
  });

  // Assemble the outputs in grid order.
  CsvTable trace(with(kParameterColumns, {"iter", "rel_err", "f_gap", "grad_norm2", "dist_fixed",
                                          "floats_up", "floats_down"}));
  CsvTable summary(with(kParameterColumns,
                        {"status", "iterations", "rel_err", "f_gap", "grad_norm2", "dist_fixed",
                         "floats_up", "floats_down", "lambda_min", "lambda_max", "gd_step", "ist_step",
                         "ist_stability_limit", "ist_bias", "ist_relative_bias", "w_bar_psd"}));
  CsvTable timing({"cell_key", "iter", "wall_s"});
  SweepSummary result;
  for (const auto& cell : cells) {
    const CellOutcome& outcome = outcomes[cell.index];
    const Theory& theory = *theories[theory_index.at(cell.theory_key())];
    const auto parameters = parameter_fields(cell, outcome.step_size);
    for (const auto& row : outcome.run.trace) {
      trace.add_row(with(parameters, {std::to_string(row.iter), format_number(row.rel_err),
                                      format_number(row.f_gap), format_number(row.grad_norm2),
                                      format_number(row.dist_fixed), format_number(row.floats_up),
                                      format_number(row.floats_down)}));
      timing.add_row({cell.key, std::to_string(row.iter), format_number(row.wall_s)});
    }
    const TraceRow& last = outcome.run.trace.back();
    const std::string status(name(outcome.run.status));
    summary.add_row(with(parameters,
                         {status, std::to_string(outcome.run.iterations), format_number(last.rel_err),
                          format_number(last.f_gap), format_number(last.grad_norm2),
                          format_number(last.dist_fixed), format_number(last.floats_up),
                          format_number(last.floats_down), format_number(theory.lambda_min),
                          format_number(theory.lambda_max), format_number(theory.gd_step),
                          format_number(theory.ist_step), format_number(theory.ist_stability_limit),
                          format_number(theory.bias), format_number(theory.relative_bias),
                          flag(theory.w_bar_psd)}));
    ++result.by_status[status];
  }

  result.directory = options.out_dir / config.experiment;
  result.cells = static_cast<int>(cells.size());
  result.problems = static_cast<int>(problems.size());
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::filesystem::create_directories(result.directory);
  write_file_atomically(result.directory / "trace.csv", trace.text());
  write_file_atomically(result.directory / "cells.csv", summary.text());
  write_file_atomically(result.directory / "timing.csv", timing.text());

  const BuildInfo& build = build_info();
  const nlohmann::json manifest = {
      {"experiment", config.experiment},
      {"config_path", config.path},
      {"config_hash", hex_hash(config.text)},
      {"config", resolved_config(config)},
      {"command_line", options.command_line},
      {"istlab_version", build.version},
      {"git_commit", build.git_commit},
      {"git_dirty", build.git_dirty},
      {"compiler", build.compiler},
      {"flags", build.flags},
      {"libraries", build.libraries},
      {"host_cpu", host_cpu()},
      {"threads", threads},
      {"started_at", iso_time(started_at)},
      {"finished_at", iso_time(std::chrono::system_clock::now())},
      {"seconds", result.seconds},
      {"cells", result.cells},
      {"distinct_problems", result.problems},
      {"distinct_theories", static_cast<int>(theories.size())},
      {"cells_by_status", result.by_status},
      {"files", {"trace.csv", "cells.csv", "timing.csv"}}};
  write_file_atomically(result.directory / "manifest.json", manifest.dump(2) + "\n");
  return result;
}

}  // namespace istlab
