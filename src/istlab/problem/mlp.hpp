#pragma once
// A ReLU network with L ≥ 1 hidden layers, for IST on neural networks: for a sample a ∈ R^d,
//
//   h_0 = a,   h_l = s_l ⊙ relu(W_l h_{l−1} + b_l)  (l = 1 … L, layer l of width H_l),
//   logits = W_out h_L + b_out ∈ R^C,
//   loss = mean over the batch of softmax cross-entropy + (l2/2) Σ ‖W‖² over every weight matrix
//
// (biases are not penalised). A *submodel* keeps a set of units S_l in every hidden layer, with
// scales s_l on their activations: it holds W_l's entries between kept units of consecutive
// layers (every input and every class counts as kept), the kept units' biases, and b_out, which
// belongs to no unit. One hidden layer is Yuan et al.'s IST: unit j's parameters are W_1's row j,
// b_1[j] and W_out's column j. The full model keeps every unit with scale 1. With one hidden
// layer, a perm sketch over its units and s = n (the `unbiased` scale), the full model's logits
// are exactly the mean of the n submodels' logits; deeper, only each layer's pre-activations are
// unbiased given the layer below (docs/theory.md §7).
//
// Everything is templated on the scalar: float for speed (as PyTorch trains), double for
// gradient checks. A worker's forward and backward passes touch only its submodel's parameters,
// and, once its Workspace is sized, allocate nothing.

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "istlab/data/dataset.hpp"

namespace istlab {

struct MlpShape {
  int inputs = 0;           // d
  std::vector<int> hidden;  // H_1 … H_L, the hidden layers' widths from the input side
  int classes = 0;          // C

  int depth() const { return static_cast<int>(hidden.size()); }
  // Layer l's outputs and inputs, l = 0 … depth() (depth() is the output layer).
  int layer_outputs(int l) const;
  int layer_inputs(int l) const;
  // Every weight and bias.
  double parameters() const;
};

// Layer l's outputs and inputs (l = 0 … depth) in a submodel keeping `kept` units of each
// hidden layer (every input and class counts as kept); kept = shape.hidden is the whole model.
struct LayerSize {
  int outputs = 0;
  int inputs = 0;
};
LayerSize submodel_layer(const MlpShape& shape, std::span<const int> kept, int l);
// The weights and biases of such a submodel: Σ_l outputs·(inputs + 1).
double submodel_parameters(const MlpShape& shape, std::span<const int> kept);

// "512-256": widths joined by '-', the form of the `hidden` key and its CSV column; and back
// (empty unless `text` is 1 to kMaxHiddenLayers widths of 1 to kMaxHiddenUnits, written without
// signs or leading zeros, so that one network has one spelling and one cell key).
inline constexpr int kMaxHiddenUnits = 65536;  // wider layers would not train in a sweep here
inline constexpr int kMaxHiddenLayers = 8;
std::string widths_text(const std::vector<int>& widths);
std::vector<int> parse_widths(std::string_view text);

template <class Scalar>
struct MlpLayer {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  Matrix weights;  // outputs × inputs
  Vector bias;     // outputs
};

template <class Scalar>
struct MlpParameters {
  using Matrix = typename MlpLayer<Scalar>::Matrix;
  using Vector = typename MlpLayer<Scalar>::Vector;
  std::vector<MlpLayer<Scalar>> layers;  // the hidden layers, then the output layer

  MlpShape shape() const;
  static MlpParameters zeros(const MlpShape& shape);
};

// PyTorch's nn.Linear default initialisation, drawn from the seed's problem stream: every
// weight and bias of a layer with fan-in f uniform in [−1/√f, 1/√f].
template <class Scalar>
MlpParameters<Scalar> initial_parameters(const MlpShape& shape, std::uint64_t seed);

// What training reads: the training samples, their classes, which worker holds which, the
// network's shape and its L2 weight.
struct NetworkData {
  const FeatureMatrix* features = nullptr;  // N × d, shared read-only
  std::vector<int> class_of_sample;         // N labels, 0 … C−1
  std::vector<std::vector<std::int64_t>> samples_of_worker;
  MlpShape shape;
  double l2 = 0.0;
};

// The units a submodel keeps, per hidden layer, each list increasing.
using KeptUnits = std::vector<std::span<const int>>;

// A submodel's parameters (or gradient), gathered contiguously: layer l's weights between the
// kept units of layers l and l−1, in the order of their lists, the kept units' biases, and
// the output layer's bias whole.
template <class Scalar>
struct Submodel {
  using Matrix = typename MlpLayer<Scalar>::Matrix;
  using Vector = typename MlpLayer<Scalar>::Vector;
  std::vector<MlpLayer<Scalar>> layers;
  std::vector<Vector> scales;  // per hidden layer, s_j of its kept units

  // `kept`: how many units of each hidden layer.
  void resize(const MlpShape& shape, std::span<const int> kept);
  // Copies the kept units' parameters out of `full`; `scales` are set by the caller.
  void gather(const MlpParameters<Scalar>& full, const KeptUnits& units);
};

// Buffers of one worker's passes over a batch of at most `batch` samples.
template <class Scalar>
struct MlpWorkspace {
  using Matrix = typename MlpLayer<Scalar>::Matrix;
  Matrix inputs;                    // B × d, the batch's samples
  std::vector<Matrix> activations;  // per hidden layer, B × k_l: s_l ⊙ relu(z_l)
  Matrix logits;                    // B × C, then the loss's gradient with respect to them
  std::vector<Matrix> deltas;       // per hidden layer, B × k_l: the loss's gradient w.r.t. z_l
  std::vector<int> labels;

  void resize(const MlpShape& shape, std::span<const int> kept, int batch);
};

// The batch's samples (rows of `features`) and their labels (class indices) in `workspace`.
template <class Scalar>
void load_batch(const FeatureMatrix& features, const std::vector<int>& class_of_sample,
                std::span<const std::int64_t> batch, MlpWorkspace<Scalar>& workspace);

// The loaded batch's logits, in workspace.logits (its first B rows).
template <class Scalar>
void forward(const Submodel<Scalar>& model, MlpWorkspace<Scalar>& workspace);

// The submodel's loss on the loaded batch; with `gradient` non-null, its gradient with
// respect to the submodel's own parameters (the same shapes). l2 penalises the kept weights.
template <class Scalar>
double submodel_loss(const Submodel<Scalar>& model, double l2, MlpWorkspace<Scalar>& workspace,
                     Submodel<Scalar>* gradient);

// Flops of one forward and backward pass of a submodel keeping `kept` units per hidden layer
// on B samples (multiply and add counted apart, products only): per layer of i inputs and o
// outputs 2Bio forward and 2Bio for its weights' gradient, and 2Bio more to pass the gradient
// down from every layer but the first.
double submodel_step_flops(const MlpShape& shape, std::span<const int> kept, int batch);

}  // namespace istlab
