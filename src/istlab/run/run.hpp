#pragma once
// What a run is given and what it returns (docs/theory.md §6): the run options and their stop
// rules, the statuses, the recorded rows. The one loop is run/loop.hpp; each kind of workload runs
// through it (run/quadratic_workload.cpp, run/network_workload.cpp).

#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "istlab/method/method.hpp"
#include "istlab/param/parameter.hpp"
#include "istlab/problem/network_problem.hpp"
#include "istlab/problem/quadratic.hpp"
#include "istlab/run/cost_model.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {

struct RunResult;

// How long a run may go: what a cell's key leaves out, so that a longer run of a cell goes
// on from its stored shorter one.
struct RunLength {
  std::int64_t max_iters = 0;
  double max_seconds = 0.0;  // 0: no time limit
  bool operator==(const RunLength&) const = default;
};

struct RunOptions {
  std::int64_t max_iters = 1000;
  // Tolerances: converged when any metric falls to its tolerance; 0 = off.
  double tolerance = 0.0;             // on rel_err
  double f_gap_tolerance = 0.0;       // on f(x) − f*
  double grad_norm2_tolerance = 0.0;  // on ‖∇f(x)‖²
  double floats_budget = 0.0;         // stop when floats_up + floats_down reach it; 0 = off
  double time_budget = 0.0;           // stop when model_time_s reaches it; 0 = off
  double max_seconds = 0.0;           // stop when a cell's compute time reaches it; 0 = off
  // Diverged when rel_err (quadratics) or the training loss over its start (networks) exceeds
  // it, or is not finite.
  double divergence_factor = 1e6;
  std::int64_t record_every = 0;  // record every k-th round; 0 = off
  int record_log_points = 0;      // record about m log-spaced rounds; 0 = off
  bool record_iterates = false;   // keep x itself at every recorded round (small d only)
  // Set from outside (e.g. on SIGINT) to abandon the run within its round.
  const std::atomic<bool>* interrupt = nullptr;
  // When given, the loop counts the rounds done here (a sweep's progress of a long cell).
  std::atomic<std::int64_t>* rounds_done = nullptr;
  // The cell's network and compute model (a sweep sets it per cell; not a `run:` key).
  CostModel cost;
  // Keep every round's counts in the result, so retime() can price the same run on another
  // network (cells that differ only in `network:` share one run).
  bool keep_round_counts = false;
  // A stored run of the same cell to go on from (can_continue must hold): a longer max_iters
  // or max_seconds runs only the rounds it lacks. Not a `run:` key.
  const RunResult* continue_from = nullptr;

  RunLength length() const { return {max_iters, max_seconds}; }
  // Throws ParameterError naming the field and value.
  void validate() const;
};

// The `run:` keys; names with a dot are nested ("record.every" is run: {record: {every: }}).
const std::vector<Parameter<RunOptions>>& run_parameters();

// How a run ended. kTimeLimit depends on the machine's speed, so a sweep using max_seconds
// is not reproducible to the byte; kInterrupted runs are discarded, never recorded.
enum class RunStatus { kConverged, kMaxIters, kBudget, kTimeLimit, kDiverged, kInterrupted };
std::string_view name(RunStatus status);
// Whether a run with this status stopped at its own limit (max_iters, max_seconds), so that
// a longer run goes on from it; the others ended on their own.
inline bool stopped_at_its_limit(RunStatus status) {
  return status == RunStatus::kMaxIters || status == RunStatus::kTimeLimit;
}

struct TraceRow {
  std::int64_t iter = 0;
  double rel_err = 0.0;     // ‖x − x*‖² / ‖x⁰ − x*‖²
  double f_gap = 0.0;       // f(x) − f*
  double grad_norm2 = 0.0;  // ‖∇f(x)‖²
  double dist_fixed = 0.0;  // ‖x − x^∞‖², NaN when no fixed point is given
  double floats_up = 0.0;   // cumulative, mean per worker
  double floats_down = 0.0;
  double wall_s = 0.0;  // cumulative compute time, metric evaluation excluded
  // Networks (NaN for quadratics): the training objective (1/n) Σ_i f_i on the training
  // subsample (grad_norm2 is its gradient's), its test loss and accuracy (NaN without a test
  // set, and the accuracy NaN once the run diverged), and the pooled-sample loss and gradient.
  // Then the cumulative flops per worker.
  double train_loss = std::numeric_limits<double>::quiet_NaN();
  double test_loss = std::numeric_limits<double>::quiet_NaN();
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();
  double train_loss_pooled = std::numeric_limits<double>::quiet_NaN();
  double grad_norm2_pooled = std::numeric_limits<double>::quiet_NaN();
  double flops = std::numeric_limits<double>::quiet_NaN();
  // Cumulative modelled seconds (run/cost_model.hpp); NaN without a network model.
  double model_time_s = std::numeric_limits<double>::quiet_NaN();
};

// The rounds a run records: round 0, every record_every-th, the log-spaced ones (about
// record_log_points, round(exp(t·ln(max_iters))) for equally spaced t in [0, 1]); the last
// round and the round a run ends at are recorded too, by the loop.
class RecordSchedule {
 public:
  explicit RecordSchedule(const RunOptions& options);
  bool records(std::int64_t round) const;

 private:
  std::int64_t every_;
  std::vector<std::int64_t> log_rounds_;  // ascending
};

struct RunResult {
  RunStatus status = RunStatus::kMaxIters;
  std::string_view converged_on;  // "rel_err", "f_gap" or "grad_norm2" when converged
  std::int64_t iterations = 0;
  std::vector<TraceRow> trace;
  std::vector<Vector> iterates;  // x at each trace row, when record_iterates
  Vector final_point;
  std::vector<RoundCounts> round_counts;  // every round's, when keep_round_counts
  int num_workers = 0;
};

// Whether a run under `options` can go on from `stored`, a run of the same cell (same
// problem, method, step, seed and every other key) to another max_iters or max_seconds, and
// give the bytes of a fresh run: `stored` stopped at its own limit before this run's (status
// max_iters or time_limit, with a point to go on from) or ended on its own within them
// (converged, diverged, budget); the rounds it recorded are the ones this run records up to
// there; it kept its round counts when this run keeps them. Otherwise the reason why not.
std::optional<std::string> cannot_continue(const RunResult& stored, const RunOptions& options);

// Sets every trace row's model_time_s as `cost` prices the run's kept round counts: the same
// bits as running under `cost` (the same sums in the same order). The run must not have been
// stopped by its own network's time budget.
void retime(RunResult& run, const CostModel& cost);

// Runs `method` from the problem's start point, its workers in the caller's task_arena.
// `fixed_point` (IST's x^∞) may be null. (run/quadratic_workload.cpp)
RunResult run_method(const Quadratic& problem, const Sketcher& sketcher, Method& method,
                     double step_size, std::uint64_t seed, const RunOptions& options,
                     const Vector* fixed_point = nullptr);

// Trains the network from its initial parameters, one round of `method` per iteration.
// Recorded rounds carry train_loss, grad_norm2 (on the training subsample), their pooled
// versions, test_loss, test_accuracy and flops; rel_err, f_gap and dist_fixed are NaN, and the
// tolerances on them do not apply. A round that leaves a parameter non-finite has diverged, and
// so has a recorded round whose training loss is not finite or exceeds divergence_factor times
// its value at round 0; its test_accuracy is NaN.
// (run/network_workload.cpp)
RunResult run_network(const NetworkProblem& problem, const MethodSpec& method,
                      const SketchSpec& sketch, double step_size, std::uint64_t seed,
                      const RunOptions& options);

}  // namespace istlab
