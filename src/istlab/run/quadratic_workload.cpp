// The quadratic kind of workload (docs/theory.md §1-§4): a problem with x*, its theory per sketch,
// and runs that record every metric against x* and x^∞.

#include <fmt/core.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "istlab/problem/least_squares.hpp"
#include "istlab/run/loop.hpp"
#include "istlab/run/workload.hpp"

namespace istlab {
namespace {

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
  void watch(const RoundStop& stop) { method_.watch(stop); }
  RoundCounts counts() const { return method_.counts(sketch_); }
  int num_workers() const { return problem_.num_workers(); }

  std::optional<RunStatus> check(std::int64_t iter, const Totals& totals,
                                 std::optional<TraceRow>& row, std::string_view& converged_on) {
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
      return std::nullopt;
    }
    return RunStatus::kConverged;
  }

  // (rel_err is judged every round, in check)
  std::optional<RunStatus> check_recorded(const TraceRow&) const { return std::nullopt; }

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
  void restore(const Vector& point) {
    if (point.size() != x_.size())
      throw std::runtime_error(
          fmt::format("a stored point of {} coordinates, for dim {}", point.size(), x_.size()));
    x_ = point;
    rel_err_ = relative_error();
  }

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
static_assert(RunSubject<QuadraticSubject>);

// ‖∇f_i(x*)‖² of every worker, their mean ζ², and a data family's samples and labels.
ProblemFacts quadratic_facts(const ProblemSpec& spec, const Quadratic& problem,
                             const Dataset* data) {
  ProblemFacts facts;
  facts.workers.resize(problem.num_workers());
  tbb::parallel_for(0, problem.num_workers(), [&](int worker) {
    Vector gradient(problem.dim());
    problem.worker_gradient(worker, problem.solution(), gradient);
    facts.workers[worker].grad_norm2_at_optimum = gradient.squaredNorm();
  });
  for (const auto& worker : facts.workers) facts.zeta2 += worker.grad_norm2_at_optimum;
  facts.zeta2 /= problem.num_workers();
  facts.regularization = problem.regularization();
  if (data == nullptr) return facts;
  // (A quadratic keeps only its L_i and b_i: the split is drawn again, from the same seed.)
  const LabelClasses classes = dataset_classes(*data);
  add_data_facts(classes, worker_samples(spec, classes), facts);
  return facts;
}

class QuadraticWorkload final : public Workload {
 public:
  QuadraticWorkload(const ProblemSpec& spec, Quadratic problem, const Dataset* data)
      : spec_(spec), problem_(std::move(problem)), facts_(quadratic_facts(spec, problem_, data)) {}

  const ProblemFacts& facts() const override { return facts_; }

  void prepare_theories(const std::vector<SketchSpec>& sketches) override {
    std::vector<const SketchSpec*> owners;
    for (const SketchSpec& sketch : sketches)
      if (theory_index_.emplace(sketch.key(), owners.size()).second) owners.push_back(&sketch);
    theories_.resize(owners.size());
    theory_errors_.resize(owners.size());
    if (!theory_unavailable_reason(spec_).empty()) return;
    tbb::parallel_for(0, static_cast<int>(owners.size()), [&](int t) {
      try {
        theories_[t].emplace(compute_theory(problem_, *owners[t]));
      } catch (const std::exception& error) {
        theory_errors_[t] = error.what();
      }
    });
  }

  Trajectory run(const RunRequest& request, const RunOptions& options) const override {
    Trajectory trajectory;
    const std::size_t t = theory_index_.at(request.sketch.key());
    trajectory.theory = theories_[t] ? &*theories_[t] : nullptr;
    if (request.relative_step && trajectory.theory == nullptr)
      throw std::runtime_error(
          fmt::format("its relative step needs the theory, which failed: {}", theory_errors_[t]));
    trajectory.step_size =
        trajectory.theory
            ? resolve_step(request.method, request.relative_step, request.step_value,
                           trajectory.theory->gd_step, trajectory.theory->ist_step)
            : resolve_step(request.method, request.relative_step, request.step_value, 1.0, 1.0);
    const Sketcher sketcher(request.sketch, problem_);
    auto method = make_method(request.method, problem_, sketcher);
    if (has_fixed_point(request.method) && trajectory.theory)
      trajectory.fixed_point = &trajectory.theory->fixed_point;
    trajectory.run = run_method(problem_, sketcher, *method, trajectory.step_size, request.seed,
                                options, trajectory.fixed_point);
    trajectory.solution = problem_.solution();
    return trajectory;
  }

 private:
  ProblemSpec spec_;
  Quadratic problem_;
  ProblemFacts facts_;
  std::map<std::string, std::size_t> theory_index_;  // by SketchSpec::key
  std::vector<std::optional<Theory>> theories_;
  std::vector<std::string> theory_errors_;
};

// Every rule of docs/theory.md §6 applies; recording x is for small problems only.
std::optional<RunRuleBroken> check_quadratic(const ProblemSpec& spec, const RunOptions& run,
                                             bool /*relative_step*/) {
  if (run.record_iterates && spec.dim > kMaxRecordedIterateDim)
    return RunRuleBroken{"run.record_iterates",
                         fmt::format("records x at every recorded round, for dim up to {}; "
                                     "problem.dim = {} is too large",
                                     kMaxRecordedIterateDim, spec.dim)};
  return std::nullopt;
}

// (make_problem validates the spec and calls the family's maker)
std::unique_ptr<Workload> build_quadratic(const ProblemFamily& /*family*/, const ProblemSpec& spec,
                                          const ProblemInputs& inputs) {
  return std::make_unique<QuadraticWorkload>(
      spec, make_problem(spec, inputs.parallel_for, inputs.dataset.get()), inputs.dataset.get());
}

}  // namespace

namespace {

double quadratic_run_bytes(const ProblemSpec& spec, const MethodSpec& method, const SketchSpec&) {
  return method_bytes(method, spec.dim, spec.num_workers);
}

}  // namespace

const WorkloadKind& quadratic_kind() {
  static const WorkloadKind kind = {
      .name = "quadratic",
      .unread_method_options = {"batch_size"},  // its gradients are exact
      .check = check_quadratic,
      .build = build_quadratic,
      .run_bytes = quadratic_run_bytes,
  };
  return kind;
}

RunResult run_method(const Quadratic& problem, const Sketcher& sketcher, Method& method,
                     double step_size, std::uint64_t seed, const RunOptions& options,
                     const Vector* fixed_point) {
  options.validate();
  check_step_size(step_size);
  QuadraticSubject subject(problem, sketcher, method, step_size, seed, options, fixed_point);
  return run_loop(subject, options);
}

}  // namespace istlab
