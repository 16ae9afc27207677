#pragma once
// The `mlp` family: a ReLU network of one or more hidden layers (problem/mlp.hpp) trained on a
// dataset split among the workers exactly as least_squares splits it. Not a quadratic: the
// methods see a gradient oracle on minibatches, and docs/theory.md §4's theory does not apply.
//
//   features: the dataset after preprocessing (pooling, scaling, a frozen random ReLU layer
//             standing in for a pretrained extractor), d of them
//   network:  d → H_1 → … → H_L (ReLU) → C classes, softmax cross-entropy, (l2/2)‖W‖² with
//             l2 = `regularization`; PyTorch's initialisation from the problem's seed
//   metrics:  the objective the methods minimise, (1/n) Σ_i f_i, and its gradient, each f_i
//             on a fixed subsample of worker i's samples (about `eval_samples` in all, shared
//             in proportion to the workers' sizes, no randomness; 0: all), and the full
//             model's loss and accuracy on `test_dataset` when one is given, preprocessed
//             with the training set's scaling statistics

#include <cstdint>
#include <memory>
#include <vector>

#include "istlab/data/catalog.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/problem/mlp.hpp"

namespace istlab {

struct NetworkProblem {
  std::shared_ptr<const Dataset> train;  // what data.features points into
  std::shared_ptr<const Dataset> test;   // null without a test set
  NetworkData data;
  std::vector<double> label_values;        // class c is label_values[c]
  std::vector<int> test_class_of_sample;   // the test samples' classes, 0 … C−1
  std::vector<std::int64_t> test_samples;  // 0 … N_test − 1
  // Per worker, the samples its f_i is measured on in the metrics (eval_subsamples).
  std::vector<std::vector<std::int64_t>> eval_samples_of_worker;
  MlpParameters<float> initial;
};

// The held-out set an mlp spec names (name and path empty when it names none): preprocessed
// like the training set, with the training set's scaling.
DatasetRequest test_dataset_request(const ProblemSpec& spec);

// `train` and `test` (null: none) already preprocessed as the spec's requests ask. Throws
// DataError when the test set does not fit the training set (features, labels).
NetworkProblem make_network_problem(const ProblemSpec& spec, std::shared_ptr<const Dataset> train,
                                    std::shared_ptr<const Dataset> test);
// Reads and preprocesses the files itself (outside a sweep's shared cache).
NetworkProblem make_network_problem(const ProblemSpec& spec);

// Throws DataError unless `test` has `train`'s features and only labels `train` has.
void check_test_set(const Dataset& train, const Dataset& test);

// The metrics' subsample of each worker's samples: for m = `wanted` of N samples in all,
// worker i holding N_i keeps m_i = ⌈m·N_i/N⌉ of them (at least 1), every ⌊N_i/m_i⌋-th in the
// order it holds them; all of them when m is 0 or at least N.
std::vector<std::vector<std::int64_t>> eval_subsamples(
    const std::vector<std::vector<std::int64_t>>& samples_of_worker, std::int64_t wanted);

void check_mlp(const ProblemSpec& spec);
void check_mlp_data(const ProblemSpec& spec, const Dataset& data, const LabelClasses& classes);
// The network's shape: d = spec.dim, the widths spec.hidden spells, and C = spec.num_classes as
// the grid found it (10 when unknown).
MlpShape mlp_shape(const ProblemSpec& spec);
double mlp_problem_bytes(const ProblemSpec& spec);
int mlp_sketched_dim(const ProblemSpec& spec);  // the narrowest hidden layer's units

}  // namespace istlab
