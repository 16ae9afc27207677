// The network kind of workload (problem/network_problem.hpp): a network trained from its
// initial parameters. It has no x* and no theory, so relative steps, tolerances on rel_err,
// f_gap or ‖∇f‖² and recorded iterates mean nothing on it.

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <variant>

#include "istlab/run/loop.hpp"
#include "istlab/run/workload.hpp"

namespace istlab {
namespace {

// The model's parameters in one vector (each layer's weights then bias, in storage order, from
// the input side): where a stored run goes on from. Floats widen to doubles and back exactly.
Eigen::Index parameter_count(const NetworkModel& model) {
  Eigen::Index size = 0;
  for (const auto& layer : model.layers) size += layer.weights.size() + layer.bias.size();
  return size;
}

Vector flattened(const NetworkModel& model) {
  Vector point(parameter_count(model));
  Eigen::Index at = 0;
  auto put = [&](const auto& block) {
    for (Eigen::Index i = 0; i < block.size(); ++i) point[at++] = block.data()[i];
  };
  for (const auto& layer : model.layers) {
    put(layer.weights);
    put(layer.bias);
  }
  return point;
}

void unflatten(const Vector& point, NetworkModel& model) {
  const Eigen::Index size = parameter_count(model);
  if (point.size() != size)
    throw std::runtime_error(
        fmt::format("a stored model of {} parameters, for a network of {}", point.size(), size));
  Eigen::Index at = 0;
  auto take = [&](auto& block) {
    for (Eigen::Index i = 0; i < block.size(); ++i)
      block.data()[i] = static_cast<float>(point[at++]);
  };
  for (auto& layer : model.layers) {
    take(layer.weights);
    take(layer.bias);
  }
}

class NetworkSubject {
 public:
  NetworkSubject(const NetworkProblem& problem, const MethodSpec& method, const SketchSpec& sketch,
                 double step_size, std::uint64_t seed, const RunOptions& options)
      : problem_(problem),
        round_(problem.data, method, sketch, step_size),
        seed_(seed),
        options_(options),
        model_(problem.initial),
        initial_loss_(training_metrics(model_, problem.data, problem.eval_samples_of_worker).loss) {
  }

  void round(std::int64_t iter) { counts_ = round_.run(seed_, iter, model_); }
  void watch(const RoundStop& stop) { round_.watch(stop); }
  RoundCounts counts() const { return counts_; }
  int num_workers() const { return static_cast<int>(problem_.data.samples_of_worker.size()); }
  // Every round: only the parameters' finiteness, which costs one pass over them. The loss is
  // judged where it is measured anyway, at recorded rounds (check_recorded).
  std::optional<RunStatus> check(std::int64_t, const Totals&, std::optional<TraceRow>&,
                                 std::string_view&) const {
    if (!all_finite(model_)) return RunStatus::kDiverged;
    return std::nullopt;
  }
  std::optional<RunStatus> check_recorded(const TraceRow& row) const {
    if (diverged(row.train_loss)) return RunStatus::kDiverged;
    return std::nullopt;
  }

  TraceRow row(std::int64_t iter, const Totals& totals) const {
    TraceRow row = counted_row(iter, totals, options_.cost);
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    row.rel_err = row.f_gap = row.dist_fixed = kNaN;
    const TrainingMetrics train =
        training_metrics(model_, problem_.data, problem_.eval_samples_of_worker);
    row.train_loss = train.loss;
    row.grad_norm2 = train.grad_norm2;
    row.train_loss_pooled = train.pooled_loss;
    row.grad_norm2_pooled = train.pooled_grad_norm2;
    if (problem_.test) {
      const Evaluation test =
          evaluate(model_, problem_.test->features, problem_.test_class_of_sample,
                   problem_.test_samples, problem_.data.l2);
      row.test_loss = test.loss;
      // (a diverged model's accuracy is no result: a max() over cells would read it as one)
      row.test_accuracy = diverged(row.train_loss) ? kNaN : test.accuracy;
    }
    return row;
  }

  void keep(RunResult&) const {}
  Vector final_point() const { return flattened(model_); }
  void restore(const Vector& point) { unflatten(point, model_); }

 private:
  // docs/theory.md §7: a parameter or the training loss non-finite, or the loss above
  // divergence_factor times its value at round 0.
  bool diverged(double train_loss) const {
    return !all_finite(model_) || !std::isfinite(train_loss) ||
           train_loss > options_.divergence_factor * initial_loss_;
  }

  const NetworkProblem& problem_;
  NetworkRound round_;
  std::uint64_t seed_;
  const RunOptions& options_;
  NetworkModel model_;
  double initial_loss_;  // F at round 0
  RoundCounts counts_;
};
static_assert(RunSubject<NetworkSubject>);

// No optimum to measure ζ² at: the workers' samples and labels only, from the split the
// network holds.
ProblemFacts network_facts(const NetworkProblem& network) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  ProblemFacts facts;
  facts.zeta2 = kNaN;
  facts.regularization = network.data.l2;
  facts.workers.resize(network.data.samples_of_worker.size());
  for (auto& worker : facts.workers) worker.grad_norm2_at_optimum = kNaN;
  LabelClasses classes;
  classes.values = network.label_values;
  classes.class_of_sample = network.data.class_of_sample;
  add_data_facts(classes, network.data.samples_of_worker, facts);
  return facts;
}

class NetworkWorkload final : public Workload {
 public:
  explicit NetworkWorkload(NetworkProblem network)
      : network_(std::move(network)), facts_(network_facts(network_)) {}

  const ProblemFacts& facts() const override { return facts_; }
  void prepare_theories(const std::vector<SketchSpec>&) override {}

  Trajectory run(const RunRequest& request, const RunOptions& options) const override {
    Trajectory trajectory;
    trajectory.step_size = request.step_value;  // absolute: check_network refuses relative ones
    trajectory.run = run_network(network_, request.method, request.sketch, trajectory.step_size,
                                 request.seed, options);
    return trajectory;
  }

 private:
  NetworkProblem network_;
  ProblemFacts facts_;
};

std::optional<RunRuleBroken> check_network(const ProblemSpec& spec, const RunOptions& run,
                                           bool relative_step) {
  const std::string why =
      fmt::format("does not apply to generator '{}' (a network)", spec.generator);
  if (relative_step)
    return RunRuleBroken{"step_size",
                         "relative steps need the theory of docs/theory.md §4, which " + why +
                             "; give absolute steps"};
  if (run.record_iterates) return RunRuleBroken{"run.record_iterates", why};
  if (run.tolerance > 0.0) return RunRuleBroken{"run.tolerance.rel_err", why};
  if (run.f_gap_tolerance > 0.0) return RunRuleBroken{"run.tolerance.f_gap", why};
  if (run.grad_norm2_tolerance > 0.0) return RunRuleBroken{"run.tolerance.grad_norm2", why};
  return std::nullopt;
}

// The samples the training loss is measured on (every ⌊N/m⌋-th; all when m is 0).
double eval_samples(const ProblemSpec& spec) {
  const auto samples = static_cast<double>(spec.num_samples);
  return spec.eval_samples > 0 ? std::min<double>(spec.eval_samples, samples) : samples;
}

// The round's workers and the server, the model being trained, and a recorded round's
// metrics (the class count from the dataset, as the grid found it).
double network_run_bytes(const ProblemSpec& spec, const MethodSpec& method,
                         const SketchSpec& sketch) {
  const MlpShape shape = mlp_shape(spec);
  const double model = shape.parameters() * sizeof(float);
  return network_round_bytes(method, sketch, shape, spec.num_workers,
                             static_cast<double>(spec.num_samples)) +
         model + network_metrics_bytes(shape, eval_samples(spec));
}

std::unique_ptr<Workload> build_network(const ProblemFamily& family, const ProblemSpec& spec,
                                        const ProblemInputs& inputs) {
  return std::make_unique<NetworkWorkload>(std::get<MakeNetwork>(family.make)(spec, inputs));
}

}  // namespace

const WorkloadKind& network_kind() {
  static const WorkloadKind kind = {
      .name = "network",
      .unread_method_options = {"outer_sketch"},  // ist trains the submodel itself
      .check = check_network,
      .build = build_network,
      .run_bytes = network_run_bytes,
  };
  return kind;
}

RunResult run_network(const NetworkProblem& problem, const MethodSpec& method,
                      const SketchSpec& sketch, double step_size, std::uint64_t seed,
                      const RunOptions& options) {
  options.validate();
  check_step_size(step_size);
  NetworkSubject subject(problem, method, sketch, step_size, seed, options);
  return run_loop(subject, options);
}

}  // namespace istlab
