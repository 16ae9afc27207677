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

// Cumulative counts per worker and the compute time, as of the last round.
struct Totals {
  double floats_up = 0.0;
  double floats_down = 0.0;
  double flops = 0.0;
  double wall_s = 0.0;
  double model_s = 0.0;

  void add(const RoundCounts& counts, const CostModel& cost, int num_workers) {
    floats_up += counts.floats_up;
    floats_down += counts.floats_down;
    flops += counts.flops;
    if (cost.enabled()) model_s += cost.round_seconds(counts, num_workers);
  }
};

TraceRow counted_row(std::int64_t iter, const Totals& totals, const CostModel& cost) {
  TraceRow row;
  row.iter = iter;
  row.floats_up = totals.floats_up;
  row.floats_down = totals.floats_down;
  row.wall_s = totals.wall_s;
  row.flops = totals.flops;
  if (cost.enabled()) row.model_time_s = totals.model_s;
  return row;
}

// What run_loop trains. A subject takes a round (adding its counts to the totals), says
// after each round whether the run has diverged or converged (filling `row` when that needed
// the full metrics), and makes a recorded round's row.
class QuadraticSubject {
 public:
  QuadraticSubject(const Quadratic& problem, const Sketcher& sketcher, Method& method,
                   double step_size, std::uint64_t seed, const RunOptions& options,
                   const Vector* fixed_point)
      : problem_(problem),
        sketcher_(sketcher),
        method_(method),
        step_size_(step_size),
        seed_(seed),
        options_(options),
        fixed_point_(fixed_point),
        initial_error_((problem.start_point() - problem.solution()).squaredNorm()),
        x_(problem.start_point()),
        sketch_(sketcher.make_round()),
        rel_err_(relative_error()) {}

  void round(std::int64_t iter) {
    sketcher_.draw(seed_, iter, sketch_);
    method_.step(sketch_, step_size_, x_);
  }
  RoundCounts counts() const { return method_.counts(sketch_); }
  int num_workers() const { return problem_.num_workers(); }

  RunStatus check(std::int64_t iter, const Totals& totals, std::optional<TraceRow>& row,
                  std::string_view& converged_on) {
    rel_err_ = relative_error();
    // f_gap and ‖∇f‖² cost a product with L̄: evaluate them per round only when a tolerance
    // needs them.
    if (options_.f_gap_tolerance > 0.0 || options_.grad_norm2_tolerance > 0.0)
      row = this->row(iter, totals);
    if (!std::isfinite(rel_err_) || rel_err_ > options_.divergence_factor)
      return RunStatus::kDiverged;
    if (options_.tolerance > 0.0 && rel_err_ <= options_.tolerance) {
      converged_on = "rel_err";
    } else if (row && options_.f_gap_tolerance > 0.0 && row->f_gap <= options_.f_gap_tolerance) {
      converged_on = "f_gap";
    } else if (row && options_.grad_norm2_tolerance > 0.0 &&
               row->grad_norm2 <= options_.grad_norm2_tolerance) {
      converged_on = "grad_norm2";
    } else {
      return RunStatus::kMaxIters;
    }
    return RunStatus::kConverged;
  }

  TraceRow row(std::int64_t iter, const Totals& totals) const {
    TraceRow row = counted_row(iter, totals, options_.cost);
    row.rel_err = rel_err_;
    row.f_gap = problem_.objective_gap(x_);
    row.grad_norm2 = problem_.gradient(x_).squaredNorm();
    row.dist_fixed = fixed_point_ != nullptr ? (x_ - *fixed_point_).squaredNorm()
                                             : std::numeric_limits<double>::quiet_NaN();
    return row;
  }

  void keep(RunResult& result) const {
    if (options_.record_iterates) result.iterates.push_back(x_);
  }
  Vector final_point() { return std::move(x_); }

 private:
  double relative_error() const {
    const double error = (x_ - problem_.solution()).squaredNorm();
    return initial_error_ > 0.0 ? error / initial_error_ : error;
  }

  const Quadratic& problem_;
  const Sketcher& sketcher_;
  Method& method_;
  double step_size_;
  std::uint64_t seed_;
  const RunOptions& options_;
  const Vector* fixed_point_;
  double initial_error_;
  Vector x_;
  RoundSketch sketch_;
  double rel_err_;
};

class NetworkSubject {
 public:
  NetworkSubject(const NetworkProblem& problem, const NetworkRoundSpec& spec, std::uint64_t seed,
                 const RunOptions& options)
      : problem_(problem),
        rounds_(problem.data, spec),
        seed_(seed),
        options_(options),
        model_(problem.initial) {}

  void round(std::int64_t iter) { counts_ = rounds_.run(seed_, iter, model_); }
  RoundCounts counts() const { return counts_; }
  int num_workers() const { return static_cast<int>(problem_.data.samples_of_worker.size()); }
  RunStatus check(std::int64_t, const Totals&, std::optional<TraceRow>&, std::string_view&) const {
    return all_finite(model_) ? RunStatus::kMaxIters : RunStatus::kDiverged;
  }

  TraceRow row(std::int64_t iter, const Totals& totals) const {
    TraceRow row = counted_row(iter, totals, options_.cost);
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    row.rel_err = row.f_gap = row.dist_fixed = kNaN;
    const LossAndGradient train = loss_and_gradient(model_, problem_.data, problem_.eval_samples);
    row.train_loss = train.loss;
    row.grad_norm2 = train.grad_norm2;
    if (problem_.test) {
      const Evaluation test =
          evaluate(model_, problem_.test->features, problem_.test_class_of_sample,
                   problem_.test_samples, problem_.data.l2);
      row.test_loss = test.loss;
      row.test_accuracy = test.accuracy;
    }
    return row;
  }

  void keep(RunResult&) const {}
  Vector final_point() const { return {}; }

 private:
  const NetworkProblem& problem_;
  NetworkRounds rounds_;
  std::uint64_t seed_;
  const RunOptions& options_;
  MlpParameters<float> model_;
  RoundCounts counts_;
};

template <class Subject>
RunResult run_loop(Subject& subject, const RunOptions& options) {
  using Clock = std::chrono::steady_clock;
  const std::vector<std::int64_t> log_rounds =
      log_spaced_rounds(options.max_iters, options.record_log_points);
  auto next_log_round = log_rounds.begin();
  auto scheduled = [&](std::int64_t iter) {
    while (next_log_round != log_rounds.end() && *next_log_round < iter) ++next_log_round;
    const bool log_hit = next_log_round != log_rounds.end() && *next_log_round == iter;
    return log_hit || (options.record_every > 0 && iter % options.record_every == 0);
  };

  RunResult result;
  Totals totals;
  result.trace.push_back(subject.row(0, totals));
  subject.keep(result);

  std::int64_t iter = 0;
  RunStatus status = RunStatus::kMaxIters;
  while (iter < options.max_iters) {
    if (options.interrupt != nullptr && options.interrupt->load(std::memory_order_relaxed)) {
      status = RunStatus::kInterrupted;
      break;
    }
    const auto start = Clock::now();
    subject.round(iter);
    totals.wall_s += std::chrono::duration<double>(Clock::now() - start).count();
    const RoundCounts counts = subject.counts();
    totals.add(counts, options.cost, subject.num_workers());
    if (options.keep_round_counts) result.round_counts.push_back(counts);
    ++iter;

    std::optional<TraceRow> row;
    status = subject.check(iter, totals, row, result.converged_on);
    if (status != RunStatus::kMaxIters) {
    } else if (options.floats_budget > 0.0 &&
               totals.floats_up + totals.floats_down >= options.floats_budget) {
      status = RunStatus::kBudget;
    } else if (options.time_budget > 0.0 && totals.model_s >= options.time_budget) {
      status = RunStatus::kBudget;
    } else if (options.max_seconds > 0.0 && totals.wall_s >= options.max_seconds) {
      status = RunStatus::kTimeLimit;
    }
    const bool last = status != RunStatus::kMaxIters || iter == options.max_iters;
    if (last || scheduled(iter)) {
      if (!row) row = subject.row(iter, totals);
      result.trace.push_back(*row);
      subject.keep(result);
    }
    if (last) break;
  }
  result.status = status;
  result.iterations = iter;
  result.num_workers = subject.num_workers();
  result.final_point = subject.final_point();
  return result;
}

}  // namespace

const std::vector<Parameter<RunOptions>>& run_parameters() {
  const auto off = at_least(0, " (0 turns it off)");
  const Rule zero_or_two("0 (off) or ≥ 2", [](const Value& value) {
    return int_of(value) == 0 || int_of(value) >= 2 ? std::string()
                                                    : std::string("must be 0 (off) or at least 2");
  });
  static const std::vector<Parameter<RunOptions>> table = {
      field("max_iters", &RunOptions::max_iters, at_least(1), "", "")
          .means("rounds at most; a run that reaches it has status max_iters"),
      field("tolerance.rel_err", &RunOptions::tolerance, off, "", "")
          .means("status converged once rel_err = ‖x − x*‖²/‖x⁰ − x*‖² falls to it "
                 "(quadratics only)"),
      field("tolerance.f_gap", &RunOptions::f_gap_tolerance, off, "", "")
          .means("status converged once f(x) − f* falls to it (quadratics only)"),
      field("tolerance.grad_norm2", &RunOptions::grad_norm2_tolerance, off, "", "")
          .means("status converged once ‖∇f(x)‖² falls to it (quadratics only)"),
      field("floats_budget", &RunOptions::floats_budget, off, "", "")
          .means("status budget once floats_up + floats_down per worker reach it"),
      keyed_when_set(field("time_budget", &RunOptions::time_budget, off, "", ""))
          .means("status budget once the modelled time model_time_s reaches it (needs a network "
                 "model)"),
      field("max_seconds", &RunOptions::max_seconds, off, "", "")
          .means("status time_limit once a cell's compute time reaches it (machine-dependent)"),
      field("divergence_factor", &RunOptions::divergence_factor, greater_than(1), "", "")
          .means("quadratics: status diverged once rel_err exceeds it or is not finite (a network "
                 "diverges when a parameter is not finite)"),
      field("record.every", &RunOptions::record_every, off, "", "")
          .means("record every k-th round (round 0 and the last are always recorded)"),
      field("record.log_points", &RunOptions::record_log_points, zero_or_two, "", "")
          .means("record about m log-spaced rounds, at most max_iters (with record.every: both)"),
      field("record_iterates", &RunOptions::record_iterates, any_value(), "", "")
          .means("true writes x itself at every recorded round to iterates.csv (quadratics with "
                 "dim ≤ 1024)"),
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

void retime(RunResult& run, const CostModel& cost) {
  Totals totals;
  std::size_t priced = 0;
  for (TraceRow& row : run.trace) {
    while (priced < static_cast<std::size_t>(row.iter))
      totals.add(run.round_counts.at(priced++), cost, run.num_workers);
    row.model_time_s = counted_row(row.iter, totals, cost).model_time_s;
  }
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
  QuadraticSubject subject(problem, sketcher, method, step_size, seed, options, fixed_point);
  return run_loop(subject, options);
}

RunResult run_network(const NetworkProblem& problem, const NetworkRoundSpec& round,
                      std::uint64_t seed, const RunOptions& options) {
  options.validate();
  if (!(round.step_size > 0.0) || !std::isfinite(round.step_size))
    throw std::invalid_argument(
        fmt::format("step_size = {}: must be positive and finite", round.step_size));
  NetworkSubject subject(problem, round, seed, options);
  return run_loop(subject, options);
}

}  // namespace istlab
