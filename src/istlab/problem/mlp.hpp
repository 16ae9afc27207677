#pragma once
// A network with one hidden layer, for IST on neural networks (issue 14): for a sample a ∈ R^d
//
//   z = W1 a + b1 ∈ R^H,   h_j = s_j · relu(z_j),   logits = W2 h + b2 ∈ R^C,
//   loss = mean over the batch of softmax cross-entropy + (l2/2)(‖W1‖² + ‖W2‖²),
//
// (biases are not penalised). A *submodel* keeps a set of hidden units S with scales s_j: unit
// j's parameters are W1's row j, b1[j] and W2's column j (Yuan et al.'s IST partitions hidden
// units this way); b2 belongs to no unit. The full model is S = all units with s_j = 1. With
// a perm sketch over the units and s_j = n (the `unbiased` scale) the full model's logits are
// exactly the mean of the n submodels' logits.
//
// Everything is templated on the scalar: float for speed (as PyTorch trains), double for
// gradient checks. A worker's forward and backward passes touch only its units' parameters,
// and, once its Workspace is sized, allocate nothing.

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "istlab/data/dataset.hpp"

namespace istlab {

struct MlpShape {
  int inputs = 0;   // d
  int hidden = 0;   // H
  int classes = 0;  // C
};

template <class Scalar>
struct MlpParameters {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  Matrix hidden_weights;  // W1: H × d
  Vector hidden_bias;     // b1: H
  Matrix output_weights;  // W2: C × H
  Vector output_bias;     // b2: C

  MlpShape shape() const {
    return {static_cast<int>(hidden_weights.cols()), static_cast<int>(hidden_weights.rows()),
            static_cast<int>(output_weights.rows())};
  }
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

// A submodel's parameters and gradient, gathered contiguously: rows of W1 and b1 and columns
// of W2 for the kept units, in the order of `units`, and b2.
template <class Scalar>
struct Submodel {
  using Matrix = typename MlpParameters<Scalar>::Matrix;
  using Vector = typename MlpParameters<Scalar>::Vector;
  Matrix hidden_weights;  // k × d
  Vector hidden_bias;     // k
  Matrix output_weights;  // C × k
  Vector output_bias;     // C
  Vector scales;          // s_j, k of them

  void resize(const MlpShape& shape, int kept);
  // Copies the kept units' blocks out of `full` (and b2); `scales` are set by the caller.
  void gather(const MlpParameters<Scalar>& full, std::span<const int> units);
};

// Buffers of one worker's passes over a batch of at most `batch` samples and `kept` units.
template <class Scalar>
struct MlpWorkspace {
  using Matrix = typename MlpParameters<Scalar>::Matrix;
  Matrix inputs;       // B × d, the batch's samples
  Matrix activations;  // B × k: s_j·relu(z_j)
  Matrix logits;       // B × C, then the loss's gradient with respect to them
  Matrix hidden_grad;  // B × k: the loss's gradient with respect to z
  std::vector<int> labels;

  void resize(const MlpShape& shape, int kept, int batch);
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

// Flops of one forward and backward pass of a submodel of k units on B samples (multiply
// and add counted apart, products only): 2Bdk + 2BkC forward, 2BkC + 2BkC + 2Bdk backward.
double submodel_step_flops(const MlpShape& shape, int kept, int batch);

}  // namespace istlab
