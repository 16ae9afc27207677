#include "istlab/problem/mlp.hpp"

#include <algorithm>
#include <cmath>

#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

// Sub-streams of the problem stream (generators.cpp uses 0–5, least_squares.cpp 6).
constexpr std::uint64_t kHiddenLayerPart = 7;
constexpr std::uint64_t kOutputLayerPart = 8;

template <class Scalar, class Target>
void fill_uniform(RandomStream& stream, double bound, Target& target) {
  for (Eigen::Index k = 0; k < target.size(); ++k)
    target.data()[k] = static_cast<Scalar>(bound * (2.0 * stream.uniform() - 1.0));
}

}  // namespace

template <class Scalar>
MlpParameters<Scalar> MlpParameters<Scalar>::zeros(const MlpShape& shape) {
  return {Matrix::Zero(shape.hidden, shape.inputs), Vector::Zero(shape.hidden),
          Matrix::Zero(shape.classes, shape.hidden), Vector::Zero(shape.classes)};
}

template <class Scalar>
MlpParameters<Scalar> initial_parameters(const MlpShape& shape, std::uint64_t seed) {
  auto parameters = MlpParameters<Scalar>::zeros(shape);
  RandomStream hidden(seed, StreamPurpose::kProblem, kHiddenLayerPart);
  const double hidden_bound = 1.0 / std::sqrt(static_cast<double>(shape.inputs));
  fill_uniform<Scalar>(hidden, hidden_bound, parameters.hidden_weights);
  fill_uniform<Scalar>(hidden, hidden_bound, parameters.hidden_bias);
  RandomStream output(seed, StreamPurpose::kProblem, kOutputLayerPart);
  const double output_bound = 1.0 / std::sqrt(static_cast<double>(shape.hidden));
  fill_uniform<Scalar>(output, output_bound, parameters.output_weights);
  fill_uniform<Scalar>(output, output_bound, parameters.output_bias);
  return parameters;
}

template <class Scalar>
void Submodel<Scalar>::resize(const MlpShape& shape, int kept) {
  hidden_weights.resize(kept, shape.inputs);
  hidden_bias.resize(kept);
  output_weights.resize(shape.classes, kept);
  output_bias.resize(shape.classes);
  scales.resize(kept);
}

template <class Scalar>
void Submodel<Scalar>::gather(const MlpParameters<Scalar>& full, std::span<const int> units) {
  for (std::size_t u = 0; u < units.size(); ++u) {
    const auto t = static_cast<Eigen::Index>(u);
    hidden_weights.row(t) = full.hidden_weights.row(units[u]);
    hidden_bias[t] = full.hidden_bias[units[u]];
    output_weights.col(t) = full.output_weights.col(units[u]);
  }
  output_bias = full.output_bias;
}

template <class Scalar>
void MlpWorkspace<Scalar>::resize(const MlpShape& shape, int kept, int batch) {
  inputs.resize(batch, shape.inputs);
  activations.resize(batch, kept);
  logits.resize(batch, shape.classes);
  hidden_grad.resize(batch, kept);
  labels.reserve(static_cast<std::size_t>(batch));
}

template <class Scalar>
void load_batch(const FeatureMatrix& features, const std::vector<int>& class_of_sample,
                std::span<const std::int64_t> batch, MlpWorkspace<Scalar>& workspace) {
  workspace.labels.clear();
  for (std::size_t r = 0; r < batch.size(); ++r) {
    workspace.inputs.row(static_cast<Eigen::Index>(r)) =
        features.row(batch[r]).template cast<Scalar>();
    workspace.labels.push_back(class_of_sample[static_cast<std::size_t>(batch[r])]);
  }
}

namespace {

// Mean cross-entropy of the batch's logits; turns them into its gradient (softmax − one-hot)/B.
// Each sample's loss is log Σ_c exp(z_c − max z) − (z_y − max z): the true class's log-probability
// is read off the logits before they are exponentiated, because exp(z_y − max z) underflows in
// float once z_y lies ~103 below the largest logit (and its log would be −inf). The sum is at
// least 1 (the largest term is exp(0)), so its log is finite.
template <class Logits>
double cross_entropy_in_place(Logits logits, const std::vector<int>& labels) {
  using Scalar = typename Logits::Scalar;
  const auto batch = static_cast<double>(labels.size());
  double loss = 0.0;
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    auto row = logits.row(r);
    const Scalar largest = row.maxCoeff();
    const double true_class_shifted =
        static_cast<double>(row[labels[r]]) - static_cast<double>(largest);
    row.array() = (row.array() - largest).exp();
    const double sum = static_cast<double>(row.sum());
    loss += std::log(sum) - true_class_shifted;
    row *= static_cast<Scalar>(1.0 / (sum * batch));
    row[labels[r]] -= static_cast<Scalar>(1.0 / batch);
  }
  return loss / batch;
}

}  // namespace

template <class Scalar>
void forward(const Submodel<Scalar>& model, MlpWorkspace<Scalar>& workspace) {
  const auto batch = static_cast<Eigen::Index>(workspace.labels.size());
  auto activations = workspace.activations.topRows(batch);
  activations.noalias() = workspace.inputs.topRows(batch) * model.hidden_weights.transpose();
  activations.rowwise() += model.hidden_bias.transpose();
  activations = activations.array().max(Scalar(0)).rowwise() * model.scales.transpose().array();
  auto logits = workspace.logits.topRows(batch);
  logits.noalias() = activations * model.output_weights.transpose();
  logits.rowwise() += model.output_bias.transpose();
}

template <class Scalar>
double submodel_loss(const Submodel<Scalar>& model, double l2, MlpWorkspace<Scalar>& workspace,
                     Submodel<Scalar>* gradient) {
  forward(model, workspace);
  const auto batch = static_cast<Eigen::Index>(workspace.labels.size());
  const auto inputs = workspace.inputs.topRows(batch);
  const auto activations = workspace.activations.topRows(batch);
  auto logits = workspace.logits.topRows(batch);
  // (Without L2 the penalty's passes over the weights are skipped: they cost as much memory
  // traffic as a GEMM's output.)
  const double penalty = l2 == 0.0 ? 0.0
                                   : 0.5 * l2 *
                                         (static_cast<double>(model.hidden_weights.squaredNorm()) +
                                          static_cast<double>(model.output_weights.squaredNorm()));
  const double loss = cross_entropy_in_place(logits, workspace.labels) + penalty;
  if (gradient == nullptr) return loss;

  const auto decay = static_cast<Scalar>(l2);
  gradient->output_weights.noalias() = logits.transpose() * activations;
  if (l2 != 0.0) gradient->output_weights += decay * model.output_weights;
  gradient->output_bias = logits.colwise().sum().transpose();
  // dloss/dz_j = s_j·[z_j > 0]·(W2ᵀ dlogits)_j; with s_j > 0, z_j > 0 exactly where h_j > 0.
  auto hidden_grad = workspace.hidden_grad.topRows(batch);
  hidden_grad.noalias() = logits * model.output_weights;
  hidden_grad =
      (activations.array() > Scalar(0))
          .select(hidden_grad.array().rowwise() * model.scales.transpose().array(), Scalar(0));
  gradient->hidden_weights.noalias() = hidden_grad.transpose() * inputs;
  if (l2 != 0.0) gradient->hidden_weights += decay * model.hidden_weights;
  gradient->hidden_bias = hidden_grad.colwise().sum().transpose();
  return loss;
}

double submodel_step_flops(const MlpShape& shape, int kept, int batch) {
  const double b = batch;
  const double k = kept;
  return 4.0 * b * shape.inputs * k + 6.0 * b * k * shape.classes;
}

#define ISTLAB_INSTANTIATE_MLP(Scalar)                                                          \
  template struct MlpParameters<Scalar>;                                                        \
  template struct Submodel<Scalar>;                                                             \
  template struct MlpWorkspace<Scalar>;                                                         \
  template MlpParameters<Scalar> initial_parameters<Scalar>(const MlpShape&, std::uint64_t);    \
  template void load_batch<Scalar>(const FeatureMatrix&, const std::vector<int>&,               \
                                   std::span<const std::int64_t>, MlpWorkspace<Scalar>&);       \
  template void forward<Scalar>(const Submodel<Scalar>&, MlpWorkspace<Scalar>&);                \
  template double submodel_loss<Scalar>(const Submodel<Scalar>&, double, MlpWorkspace<Scalar>&, \
                                        Submodel<Scalar>*);

ISTLAB_INSTANTIATE_MLP(float)
ISTLAB_INSTANTIATE_MLP(double)

}  // namespace istlab
