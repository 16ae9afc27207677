#include "istlab/run/run.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

namespace istlab {
namespace {

// Rounds of a log-spaced schedule: round(exp(t·ln(max_iters))) for m equally spaced t.
std::vector<std::int64_t> log_spaced_rounds(std::int64_t max_iters, int points) {
  std::vector<std::int64_t> rounds;
  if (points <= 0 || max_iters <= 0) return rounds;
  points = static_cast<int>(std::min<std::int64_t>(points, max_iters));  // more would repeat rounds
  const double log_max = std::log(static_cast<double>(max_iters));
  for (int p = 0; p < points; ++p) {
    const double fraction = points == 1 ? 1.0 : static_cast<double>(p) / (points - 1);
    rounds.push_back(std::llround(std::exp(fraction * log_max)));
  }
  rounds.erase(std::unique(rounds.begin(), rounds.end()), rounds.end());
  return rounds;
}

class Recorder {
 public:
  Recorder(const Quadratic& problem, const Vector* fixed_point)
      : problem_(problem),
        fixed_point_(fixed_point),
        initial_error_((problem.start_point() - problem.solution()).squaredNorm()) {}

  double relative_error(const Vector& x) const {
    const double error = (x - problem_.solution()).squaredNorm();
    return initial_error_ > 0.0 ? error / initial_error_ : error;
  }

  TraceRow row(std::int64_t iter, const Vector& x, double rel_err, double floats_up,
               double floats_down, double wall_s) const {
    TraceRow row;
    row.iter = iter;
    row.rel_err = rel_err;
    row.f_gap = problem_.objective_gap(x);
    row.grad_norm2 = problem_.gradient(x).squaredNorm();
    row.dist_fixed = fixed_point_ != nullptr ? (x - *fixed_point_).squaredNorm()
                                             : std::numeric_limits<double>::quiet_NaN();
    row.floats_up = floats_up;
    row.floats_down = floats_down;
    row.wall_s = wall_s;
    return row;
  }

 private:
  const Quadratic& problem_;
  const Vector* fixed_point_;
  double initial_error_;
};

RunResult run_loop(const Quadratic& problem, const Sketcher& sketcher, Method& method,
                   double step_size, std::uint64_t seed, const RunOptions& options,
                   const Vector* fixed_point) {
  using Clock = std::chrono::steady_clock;
  const Recorder recorder(problem, fixed_point);
  const std::vector<std::int64_t> log_rounds =
      log_spaced_rounds(options.max_iters, options.record_log_points);
  auto next_log_round = log_rounds.begin();
  auto scheduled = [&](std::int64_t iter) {
    while (next_log_round != log_rounds.end() && *next_log_round < iter) ++next_log_round;
    const bool log_hit = next_log_round != log_rounds.end() && *next_log_round == iter;
    return log_hit || (options.record_every > 0 && iter % options.record_every == 0);
  };

  RunResult result;
  Vector x = problem.start_point();
  RoundSketch sketch = sketcher.make_round();
  double floats_up = 0.0;
  double floats_down = 0.0;
  double wall_s = 0.0;
  double rel_err = recorder.relative_error(x);
  result.trace.push_back(recorder.row(0, x, rel_err, 0.0, 0.0, 0.0));
  if (options.record_iterates) result.iterates.push_back(x);

  std::int64_t iter = 0;
  RunStatus status = RunStatus::kMaxIters;
  // f_gap and ‖∇f‖² cost a product with L̄: evaluate them per round only when a tolerance needs
  // them.
  const bool needs_full_metrics =
      options.f_gap_tolerance > 0.0 || options.grad_norm2_tolerance > 0.0;
  while (iter < options.max_iters) {
    if (options.interrupt != nullptr && options.interrupt->load(std::memory_order_relaxed)) {
      status = RunStatus::kInterrupted;
      break;
    }
    const auto start = Clock::now();
    sketcher.draw(seed, iter, sketch);
    method.step(sketch, step_size, x);
    wall_s += std::chrono::duration<double>(Clock::now() - start).count();
    const Communication sent = method.communication(sketch);
    floats_up += sent.up;
    floats_down += sent.down;
    ++iter;

    rel_err = recorder.relative_error(x);
    std::optional<TraceRow> row;
    if (needs_full_metrics) row = recorder.row(iter, x, rel_err, floats_up, floats_down, wall_s);
    if (!std::isfinite(rel_err) || rel_err > options.divergence_factor) {
      status = RunStatus::kDiverged;
    } else if (options.tolerance > 0.0 && rel_err <= options.tolerance) {
      status = RunStatus::kConverged;
      result.converged_on = "rel_err";
    } else if (row && options.f_gap_tolerance > 0.0 && row->f_gap <= options.f_gap_tolerance) {
      status = RunStatus::kConverged;
      result.converged_on = "f_gap";
    } else if (row && options.grad_norm2_tolerance > 0.0 &&
               row->grad_norm2 <= options.grad_norm2_tolerance) {
      status = RunStatus::kConverged;
      result.converged_on = "grad_norm2";
    } else if (options.floats_budget > 0.0 && floats_up + floats_down >= options.floats_budget) {
      status = RunStatus::kBudget;
    } else if (options.max_seconds > 0.0 && wall_s >= options.max_seconds) {
      status = RunStatus::kTimeLimit;
    }
    const bool last = status != RunStatus::kMaxIters || iter == options.max_iters;
    if (last || scheduled(iter)) {
      if (!row) row = recorder.row(iter, x, rel_err, floats_up, floats_down, wall_s);
      result.trace.push_back(*row);
      if (options.record_iterates) result.iterates.push_back(x);
    }
    if (last) break;
  }
  result.status = status;
  result.iterations = iter;
  result.final_point = std::move(x);
  return result;
}

}  // namespace

const std::vector<Parameter<RunOptions>>& run_parameters() {
  const auto off = at_least(0, " (0 turns it off)");
  const Rule zero_or_two = [](const Value& value) {
    return int_of(value) == 0 || int_of(value) >= 2 ? std::string()
                                                    : std::string("must be 0 (off) or at least 2");
  };
  static const std::vector<Parameter<RunOptions>> table = {
      field("max_iters", &RunOptions::max_iters, at_least(1), "", ""),
      field("tolerance.rel_err", &RunOptions::tolerance, off, "", ""),
      field("tolerance.f_gap", &RunOptions::f_gap_tolerance, off, "", ""),
      field("tolerance.grad_norm2", &RunOptions::grad_norm2_tolerance, off, "", ""),
      field("floats_budget", &RunOptions::floats_budget, off, "", ""),
      field("max_seconds", &RunOptions::max_seconds, off, "", ""),
      field("divergence_factor", &RunOptions::divergence_factor, greater_than(1), "", ""),
      field("record.every", &RunOptions::record_every, off, "", ""),
      field("record.log_points", &RunOptions::record_log_points, zero_or_two, "", ""),
      field("record_iterates", &RunOptions::record_iterates, any_value(), "", ""),
  };
  return table;
}

void RunOptions::validate() const {
  check_all(run_parameters(), *this);
  // Each point is a record kept in memory: more points than rounds would only repeat them.
  if (record_log_points > max_iters)
    throw ParameterError("record.log_points", std::to_string(record_log_points),
                         fmt::format("must be at most max_iters ({})", max_iters), {"max_iters"});
}

std::string_view name(RunStatus status) {
  switch (status) {
    case RunStatus::kConverged:
      return "converged";
    case RunStatus::kMaxIters:
      return "max_iters";
    case RunStatus::kBudget:
      return "budget";
    case RunStatus::kTimeLimit:
      return "time_limit";
    case RunStatus::kInterrupted:
      return "interrupted";
    case RunStatus::kDiverged:
      return "diverged";
  }
  return "?";
}

RunResult run_method(const Quadratic& problem, const Sketcher& sketcher, Method& method,
                     double step_size, std::uint64_t seed, const RunOptions& options,
                     const Vector* fixed_point) {
  options.validate();
  if (!(step_size > 0.0) || !std::isfinite(step_size))
    throw std::invalid_argument(
        fmt::format("step_size = {}: must be positive and finite", step_size));
  return run_loop(problem, sketcher, method, step_size, seed, options, fixed_point);
}

}  // namespace istlab
