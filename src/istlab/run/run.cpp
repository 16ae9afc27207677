#include "istlab/run/run.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "istlab/run/loop.hpp"

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

}  // namespace

RecordSchedule::RecordSchedule(const RunOptions& options)
    : every_(options.record_every),
      log_rounds_(log_spaced_rounds(options.max_iters, options.record_log_points)) {}

bool RecordSchedule::records(std::int64_t round) const {
  return round == 0 || (every_ > 0 && round % every_ == 0) ||
         std::binary_search(log_rounds_.begin(), log_rounds_.end(), round);
}

Totals totals_of(const TraceRow& row, const CostModel& cost) {
  Totals totals;
  totals.floats_up = row.floats_up;
  totals.floats_down = row.floats_down;
  totals.flops = row.flops;
  totals.wall_s = row.wall_s;
  if (cost.enabled()) totals.model_s = row.model_time_s;
  return totals;
}

std::optional<std::string> cannot_continue(const RunResult& stored, const RunOptions& options) {
  const std::int64_t end = stored.iterations;
  const bool stopped_at_limit = stopped_at_its_limit(stored.status);
  if (stored.status == RunStatus::kInterrupted) return "it was interrupted";
  if (stored.trace.empty() || stored.trace.back().iter != end)
    return "its last row is not its last round";
  if (end > options.max_iters ||
      (stopped_at_limit && end == options.max_iters && stored.status == RunStatus::kMaxIters))
    return fmt::format("it ran {} rounds, and this run stops at {}", end, options.max_iters);
  if (stored.status == RunStatus::kTimeLimit && options.max_seconds > 0.0 &&
      stored.trace.back().wall_s >= options.max_seconds)
    return "its time limit is not raised";
  if (stopped_at_limit && stored.final_point.size() == 0) return "it kept no point to go on from";
  if (options.keep_round_counts && stored.round_counts.size() != static_cast<std::size_t>(end))
    return "it kept no round counts to price other networks with";
  // The rounds it recorded before its end are the ones this run records (a log-spaced
  // schedule depends on max_iters: a run of another length records other rounds).
  const RecordSchedule schedule(options);
  std::size_t row = 0;
  for (std::int64_t round = 0; round < end; ++round) {
    const bool recorded = row < stored.trace.size() && stored.trace[row].iter == round;
    if (recorded != schedule.records(round))
      return fmt::format("it {} round {}, which this run {}", recorded ? "recorded" : "skipped",
                         round, recorded ? "skips" : "records");
    row += recorded ? 1 : 0;
  }
  return std::nullopt;
}

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

const std::vector<Parameter<RunOptions>>& run_parameters() {
  const auto off = at_least(0, " (0 turns it off)");
  const Rule zero_or_two("0 (off) or ≥ 2", [](const Value& value) {
    return int_of(value) == 0 || int_of(value) >= 2 ? std::string()
                                                    : std::string("must be 0 (off) or at least 2");
  });
  static const std::vector<Parameter<RunOptions>> table = {
      never_keyed(field("max_iters", &RunOptions::max_iters, at_least(1), "", ""))
          .means("rounds at most; a run that reaches it has status max_iters (raising it "
                 "continues stored runs)"),
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
      never_keyed(field("max_seconds", &RunOptions::max_seconds, off, "", ""))
          .means("status time_limit once a cell's compute time reaches it (machine-dependent; "
                 "raising it continues stored runs)"),
      field("divergence_factor", &RunOptions::divergence_factor, greater_than(1), "", "")
          .means("status diverged once rel_err (quadratics) or, at a recorded round, the "
                 "training loss over its round-0 value (networks) exceeds it or is not finite "
                 "(a network also when a parameter is not finite)"),
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

}  // namespace istlab
