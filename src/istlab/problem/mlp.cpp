#include "istlab/problem/mlp.hpp"

#include <algorithm>
#include <cmath>

#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

// Sub-streams of the problem stream (generators.cpp uses 0–5, least_squares.cpp 6, the catalog's
// random features 9): the first hidden layer 7 and the output layer 8, as when networks had one
// hidden layer, and hidden layer l + 1 > 1 the part 16 + l.
constexpr std::uint64_t kFirstLayerPart = 7;
constexpr std::uint64_t kOutputLayerPart = 8;
constexpr std::uint64_t kDeeperLayersPart = 16;

std::uint64_t layer_part(int layer, int depth) {
  if (layer == 0) return kFirstLayerPart;
  if (layer == depth) return kOutputLayerPart;
  return kDeeperLayersPart + static_cast<std::uint64_t>(layer);
}

template <class Scalar, class Target>
void fill_uniform(RandomStream& stream, double bound, Target& target) {
  for (Eigen::Index k = 0; k < target.size(); ++k)
    target.data()[k] = static_cast<Scalar>(bound * (2.0 * stream.uniform() - 1.0));
}

}  // namespace

LayerSize submodel_layer(const MlpShape& shape, std::span<const int> kept, int l) {
  return {l < shape.depth() ? kept[static_cast<std::size_t>(l)] : shape.classes,
          l > 0 ? kept[static_cast<std::size_t>(l - 1)] : shape.inputs};
}

double submodel_parameters(const MlpShape& shape, std::span<const int> kept) {
  double count = 0.0;
  for (int l = 0; l <= shape.depth(); ++l) {
    const LayerSize size = submodel_layer(shape, kept, l);
    count += static_cast<double>(size.outputs) * (size.inputs + 1.0);
  }
  return count;
}

int MlpShape::layer_outputs(int l) const { return submodel_layer(*this, hidden, l).outputs; }
int MlpShape::layer_inputs(int l) const { return submodel_layer(*this, hidden, l).inputs; }
double MlpShape::parameters() const { return submodel_parameters(*this, hidden); }

std::string widths_text(const std::vector<int>& widths) {
  std::string text;
  for (const int width : widths) {
    if (!text.empty()) text += '-';
    text += std::to_string(width);
  }
  return text;
}

std::vector<int> parse_widths(std::string_view text) {
  std::vector<int> widths;
  std::size_t at = 0;
  while (true) {
    const std::size_t end = std::min(text.find('-', at), text.size());
    const std::string_view digits = text.substr(at, end - at);
    const bool well_formed =
        !digits.empty() && digits.size() <= 5 && digits[0] != '0' &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!well_formed || static_cast<int>(widths.size()) == kMaxHiddenLayers) return {};
    widths.push_back(std::stoi(std::string(digits)));
    if (widths.back() > kMaxHiddenUnits) return {};
    if (end == text.size()) return widths;
    at = end + 1;
  }
}

template <class Scalar>
MlpShape MlpParameters<Scalar>::shape() const {
  MlpShape shape{static_cast<int>(layers.front().weights.cols()),
                 {},
                 static_cast<int>(layers.back().weights.rows())};
  for (std::size_t l = 0; l + 1 < layers.size(); ++l)
    shape.hidden.push_back(static_cast<int>(layers[l].weights.rows()));
  return shape;
}

template <class Scalar>
MlpParameters<Scalar> MlpParameters<Scalar>::zeros(const MlpShape& shape) {
  MlpParameters parameters;
  for (int l = 0; l <= shape.depth(); ++l)
    parameters.layers.push_back({Matrix::Zero(shape.layer_outputs(l), shape.layer_inputs(l)),
                                 Vector::Zero(shape.layer_outputs(l))});
  return parameters;
}

template <class Scalar>
MlpParameters<Scalar> initial_parameters(const MlpShape& shape, std::uint64_t seed) {
  auto parameters = MlpParameters<Scalar>::zeros(shape);
  for (int l = 0; l <= shape.depth(); ++l) {
    RandomStream stream(seed, StreamPurpose::kProblem, layer_part(l, shape.depth()));
    const double bound = 1.0 / std::sqrt(static_cast<double>(shape.layer_inputs(l)));
    auto& layer = parameters.layers[static_cast<std::size_t>(l)];
    fill_uniform<Scalar>(stream, bound, layer.weights);
    fill_uniform<Scalar>(stream, bound, layer.bias);
  }
  return parameters;
}

template <class Scalar>
void Submodel<Scalar>::resize(const MlpShape& shape, std::span<const int> kept) {
  const int depth = shape.depth();
  layers.resize(static_cast<std::size_t>(depth) + 1);
  scales.resize(static_cast<std::size_t>(depth));
  for (int l = 0; l <= depth; ++l) {
    const LayerSize size = submodel_layer(shape, kept, l);
    layers[static_cast<std::size_t>(l)].weights.resize(size.outputs, size.inputs);
    layers[static_cast<std::size_t>(l)].bias.resize(size.outputs);
  }
  for (int l = 0; l < depth; ++l)
    scales[static_cast<std::size_t>(l)].resize(kept[static_cast<std::size_t>(l)]);
}

// Layer 0 keeps whole rows (every input), the output layer whole columns (every class), a layer
// between two hidden ones the entries where both its row and column units are kept.
template <class Scalar>
void Submodel<Scalar>::gather(const MlpParameters<Scalar>& full, const KeptUnits& units) {
  const std::size_t depth = units.size();
  for (std::size_t l = 0; l <= depth; ++l) {
    const auto& from = full.layers[l];
    auto& to = layers[l];
    if (l == depth) {
      const std::span<const int> columns = units[l - 1];
      for (std::size_t u = 0; u < columns.size(); ++u)
        to.weights.col(static_cast<Eigen::Index>(u)) = from.weights.col(columns[u]);
      to.bias = from.bias;
      continue;
    }
    const std::span<const int> rows = units[l];
    for (std::size_t t = 0; t < rows.size(); ++t) {
      const auto row = static_cast<Eigen::Index>(t);
      if (l == 0) {
        to.weights.row(row) = from.weights.row(rows[t]);
      } else {
        const std::span<const int> columns = units[l - 1];
        for (std::size_t u = 0; u < columns.size(); ++u)
          to.weights(row, static_cast<Eigen::Index>(u)) = from.weights(rows[t], columns[u]);
      }
      to.bias[row] = from.bias[rows[t]];
    }
  }
}

template <class Scalar>
void MlpWorkspace<Scalar>::resize(const MlpShape& shape, std::span<const int> kept, int batch) {
  inputs.resize(batch, shape.inputs);
  activations.resize(kept.size());
  deltas.resize(kept.size());
  for (std::size_t l = 0; l < kept.size(); ++l) {
    activations[l].resize(batch, kept[l]);
    deltas[l].resize(batch, kept[l]);
  }
  logits.resize(batch, shape.classes);
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

// The first `batch` rows of layer l's input: the samples, or the activations below it.
template <class Scalar>
auto layer_input(MlpWorkspace<Scalar>& workspace, std::size_t l, Eigen::Index batch) {
  return (l == 0 ? workspace.inputs : workspace.activations[l - 1]).topRows(batch);
}

}  // namespace

template <class Scalar>
void forward(const Submodel<Scalar>& model, MlpWorkspace<Scalar>& workspace) {
  const auto batch = static_cast<Eigen::Index>(workspace.labels.size());
  const std::size_t depth = model.scales.size();
  for (std::size_t l = 0; l < depth; ++l) {
    auto activations = workspace.activations[l].topRows(batch);
    activations.noalias() = layer_input(workspace, l, batch) * model.layers[l].weights.transpose();
    activations.rowwise() += model.layers[l].bias.transpose();
    activations =
        activations.array().max(Scalar(0)).rowwise() * model.scales[l].transpose().array();
  }
  auto logits = workspace.logits.topRows(batch);
  logits.noalias() = layer_input(workspace, depth, batch) * model.layers[depth].weights.transpose();
  logits.rowwise() += model.layers[depth].bias.transpose();
}

template <class Scalar>
double submodel_loss(const Submodel<Scalar>& model, double l2, MlpWorkspace<Scalar>& workspace,
                     Submodel<Scalar>* gradient) {
  forward(model, workspace);
  const auto batch = static_cast<Eigen::Index>(workspace.labels.size());
  const std::size_t depth = model.scales.size();
  // (Without L2 the penalty's passes over the weights are skipped: they cost as much memory
  // traffic as a GEMM's output.)
  double squared_weights = 0.0;
  if (l2 != 0.0)
    for (const auto& layer : model.layers)
      squared_weights += static_cast<double>(layer.weights.squaredNorm());
  const double penalty = l2 == 0.0 ? 0.0 : 0.5 * l2 * squared_weights;
  const double loss =
      cross_entropy_in_place(workspace.logits.topRows(batch), workspace.labels) + penalty;
  if (gradient == nullptr) return loss;

  // Backward from the output layer: `delta` is the loss's gradient with respect to layer l's
  // outputs (the logits, then each hidden layer's z).
  const auto decay = static_cast<Scalar>(l2);
  auto* delta = &workspace.logits;
  for (std::size_t l = depth + 1; l-- > 0;) {
    const auto outgoing = delta->topRows(batch);
    auto& layer = gradient->layers[l];
    layer.weights.noalias() = outgoing.transpose() * layer_input(workspace, l, batch);
    if (l2 != 0.0) layer.weights += decay * model.layers[l].weights;
    layer.bias = outgoing.colwise().sum().transpose();
    if (l == 0) break;
    // dloss/dz_j = s_j·[z_j > 0]·(Wᵀ delta)_j; with s_j > 0, z_j > 0 exactly where h_j > 0.
    auto below = workspace.deltas[l - 1].topRows(batch);
    below.noalias() = outgoing * model.layers[l].weights;
    below =
        (workspace.activations[l - 1].topRows(batch).array() > Scalar(0))
            .select(below.array().rowwise() * model.scales[l - 1].transpose().array(), Scalar(0));
    delta = &workspace.deltas[l - 1];
  }
  return loss;
}

double submodel_step_flops(const MlpShape& shape, std::span<const int> kept, int batch) {
  const double b = batch;
  double flops = 0.0;
  for (int l = 0; l <= shape.depth(); ++l) {
    const LayerSize size = submodel_layer(shape, kept, l);
    flops += (l > 0 ? 6.0 : 4.0) * b * static_cast<double>(size.inputs) * size.outputs;
  }
  return flops;
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
