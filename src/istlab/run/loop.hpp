#pragma once
// The only iteration loop (docs/theory.md §6): let the subject compute one round, account its
// floats, flops and modelled time, check the stop rules, record scheduled rounds. A subject is what
// a kind of workload trains (run/quadratic_workload.cpp, run/network_workload.cpp).

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "istlab/method/round_stop.hpp"
#include "istlab/run/run.hpp"

namespace istlab {

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

// A row with the totals filled in and every metric left to the subject.
TraceRow counted_row(std::int64_t iter, const Totals& totals, const CostModel& cost);

// The totals a recorded row holds (a stored run goes on from its last row's).
Totals totals_of(const TraceRow& row, const CostModel& cost);

// What run_loop trains. After each round the subject says whether the run ended (diverged
// or converged, naming the metric in `converged_on`) or goes on (nullopt), filling `row`
// when deciding needed the full metrics; row() makes a recorded round's row, keep() keeps
// what a recorded round adds besides it (the iterate); check_recorded() applies the rules that
// need a recorded row's metrics (too costly to measure every round) and may end the run there;
// watch() hands the loop's RoundStop to whatever polls it within a round.
template <class Subject>
concept RunSubject = requires(Subject subject, const Subject& held, std::int64_t iter,
                              const Totals& totals, std::optional<TraceRow>& row,
                              std::string_view& converged_on, RunResult& result) {
  { subject.round(iter) } -> std::same_as<void>;
  { held.counts() } -> std::same_as<RoundCounts>;
  { held.num_workers() } -> std::same_as<int>;
  { subject.check(iter, totals, row, converged_on) } -> std::same_as<std::optional<RunStatus>>;
  { held.row(iter, totals) } -> std::same_as<TraceRow>;
  { held.check_recorded(TraceRow{}) } -> std::same_as<std::optional<RunStatus>>;
  { held.keep(result) } -> std::same_as<void>;
  { subject.final_point() } -> std::same_as<Vector>;
  { subject.restore(Vector()) } -> std::same_as<void>;
  { subject.watch(RoundStop::never()) } -> std::same_as<void>;
};

template <RunSubject Subject>
RunResult run_loop(Subject& subject, const RunOptions& options) {
  using Clock = std::chrono::steady_clock;
  const RecordSchedule schedule(options);
  RunResult result;
  Totals totals;
  std::int64_t iter = 0;
  if (options.continue_from == nullptr) {
    result.trace.push_back(subject.row(0, totals));
    subject.keep(result);
  } else {
    // A stored run of the same cell (can_continue holds): its rounds are this run's first
    // ones, bit for bit, the rounds' random draws being keyed by (seed, round, worker).
    result = *options.continue_from;
    if (!stopped_at_its_limit(result.status))
      return result;  // it ended on its own, before this run's limits
    totals = totals_of(result.trace.back(), options.cost);
    iter = result.iterations;
    subject.restore(result.final_point);
    // Its last row was recorded because it was last; a longer run records it only when due.
    if (iter < options.max_iters && !schedule.records(iter)) {
      result.trace.pop_back();
      if (!result.iterates.empty()) result.iterates.pop_back();
    }
    result.final_point = Vector();
  }
  // Long rounds poll this between their local steps: an interrupt or the time limit ends the
  // run within a step, not at the round's end.
  RoundStop stop(options.interrupt);
  struct Unwatch {
    Subject& subject;
    ~Unwatch() { subject.watch(RoundStop::never()); }
  } unwatch{subject};
  subject.watch(stop);

  std::optional<RunStatus> ended;
  while (!ended && iter < options.max_iters) {
    if (options.interrupt != nullptr && options.interrupt->load(std::memory_order_relaxed)) {
      ended = RunStatus::kInterrupted;
      break;
    }
    const auto start = Clock::now();
    if (options.max_seconds > 0.0)
      stop.set_deadline(start +
                        std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(options.max_seconds - totals.wall_s)));
    try {
      subject.round(iter);
    } catch (const RoundStopped& stopped) {
      // The model is still round `iter`'s: end there, its row recorded.
      totals.wall_s += std::chrono::duration<double>(Clock::now() - start).count();
      ended = stopped.time_up ? RunStatus::kTimeLimit : RunStatus::kInterrupted;
      if (result.trace.back().iter != iter) {
        result.trace.push_back(subject.row(iter, totals));
        subject.keep(result);
      }
      break;
    }
    totals.wall_s += std::chrono::duration<double>(Clock::now() - start).count();
    const RoundCounts counts = subject.counts();
    totals.add(counts, options.cost, subject.num_workers());
    if (options.keep_round_counts) result.round_counts.push_back(counts);
    ++iter;
    if (options.rounds_done != nullptr) options.rounds_done->store(iter, std::memory_order_relaxed);

    std::optional<TraceRow> row;
    ended = subject.check(iter, totals, row, result.converged_on);
    if (ended) {
    } else if (options.floats_budget > 0.0 &&
               totals.floats_up + totals.floats_down >= options.floats_budget) {
      ended = RunStatus::kBudget;
    } else if (options.time_budget > 0.0 && totals.model_s >= options.time_budget) {
      ended = RunStatus::kBudget;
    } else if (options.max_seconds > 0.0 && totals.wall_s >= options.max_seconds) {
      ended = RunStatus::kTimeLimit;
    }
    if (ended || iter == options.max_iters || schedule.records(iter)) {
      if (!row) row = subject.row(iter, totals);
      if (const auto verdict = subject.check_recorded(*row)) ended = verdict;
      result.trace.push_back(*row);
      subject.keep(result);
    }
  }
  result.status = ended.value_or(RunStatus::kMaxIters);
  result.iterations = iter;
  result.num_workers = subject.num_workers();
  result.final_point = subject.final_point();
  return result;
}

}  // namespace istlab
