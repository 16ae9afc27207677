// The ReLU network of problem/mlp.hpp: gradients against finite differences for every
// parameter at depth 1, 2 and 3 (submodels with scaled activations), the unbiased perm identity
// at depth 1 (full logits = mean of the submodels' logits) and why it fails deeper, float against
// double, the kept parameters, and the `hidden` spelling.

#include "istlab/problem/mlp.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

namespace istlab {
namespace {

const MlpShape kShape{5, {7}, 3};
constexpr int kBatch = 6;

// A batch of kBatch samples with labels 0, 1, 2, 0, ...
FeatureMatrix sample_features(int samples, int inputs) {
  std::mt19937 random(17);
  std::normal_distribution<float> normal;
  FeatureMatrix features(samples, inputs);
  for (Eigen::Index k = 0; k < features.size(); ++k) features.data()[k] = normal(random);
  return features;
}

template <class Scalar>
MlpWorkspace<Scalar> loaded_workspace(const MlpShape& shape, std::vector<int> kept) {
  const FeatureMatrix features = sample_features(kBatch, shape.inputs);
  std::vector<int> classes(kBatch);
  for (int i = 0; i < kBatch; ++i) classes[i] = i % shape.classes;
  std::vector<std::int64_t> batch(kBatch);
  std::iota(batch.begin(), batch.end(), 0);
  MlpWorkspace<Scalar> workspace;
  workspace.resize(shape, kept, kBatch);
  load_batch(features, classes, batch, workspace);
  return workspace;
}

// Per hidden layer, the kept units' lists as a submodel reads them.
KeptUnits spans(const std::vector<std::vector<int>>& units) {
  return KeptUnits(units.begin(), units.end());
}
std::vector<int> sizes(const std::vector<std::vector<int>>& units) {
  std::vector<int> widths;
  for (const auto& layer : units) widths.push_back(static_cast<int>(layer.size()));
  return widths;
}

template <class Scalar>
Submodel<Scalar> gathered(const MlpParameters<Scalar>& full,
                          const std::vector<std::vector<int>>& units, double scale) {
  Submodel<Scalar> model;
  model.resize(full.shape(), sizes(units));
  model.gather(full, spans(units));
  for (auto& scales : model.scales) scales.setConstant(static_cast<Scalar>(scale));
  return model;
}

const std::vector<std::vector<int>> kKept = {{1, 4, 6}};  // of kShape's 7 units

// Units 1, 4, 6 of the full model with scales 2, 0.5, 3.
template <class Scalar>
Submodel<Scalar> sample_submodel(std::uint64_t seed = 3) {
  Submodel<Scalar> model = gathered(initial_parameters<Scalar>(kShape, seed), kKept, 1.0);
  model.scales[0] << 2, 0.5, 3;
  return model;
}

// Every weight and bias of `model`, for perturbing one at a time.
std::vector<double*> entries(Submodel<double>& model) {
  std::vector<double*> all;
  auto add = [&](auto& matrix) {
    for (Eigen::Index k = 0; k < matrix.size(); ++k) all.push_back(matrix.data() + k);
  };
  for (auto& layer : model.layers) {
    add(layer.weights);
    add(layer.bias);
  }
  return all;
}

void expect_gradient_matches_central_differences(Submodel<double> model,
                                                 const std::vector<int>& kept) {
  constexpr double kL2 = 0.03;
  const MlpShape shape{static_cast<int>(model.layers.front().weights.cols()),
                       {},
                       static_cast<int>(model.layers.back().weights.rows())};
  auto workspace = loaded_workspace<double>(shape, kept);
  Submodel<double> gradient = model;
  submodel_loss(model, kL2, workspace, &gradient);
  Submodel<double> probe = model;
  const std::vector<double*> at = entries(probe);
  const std::vector<double*> analytic = entries(gradient);
  constexpr double kStep = 1e-6;
  for (std::size_t k = 0; k < at.size(); ++k) {
    const double saved = *at[k];
    *at[k] = saved + kStep;
    const double up = submodel_loss<double>(probe, kL2, workspace, nullptr);
    *at[k] = saved - kStep;
    const double down = submodel_loss<double>(probe, kL2, workspace, nullptr);
    *at[k] = saved;
    const double numeric = (up - down) / (2 * kStep);
    EXPECT_NEAR(*analytic[k], numeric, 1e-7 * (1.0 + std::abs(numeric))) << "entry " << k;
  }
}

TEST(Mlp, GradientOfEveryBlockMatchesCentralDifferences) {
  Submodel<double> model = sample_submodel<double>();
  EXPECT_EQ(entries(model).size(), 3u * 5 + 3 + 3 * 3 + 3);
  expect_gradient_matches_central_differences(model, {3});
}

// Deeper: a submodel of some units of every layer, each layer's activations scaled apart.
TEST(Mlp, GradientOfDeeperNetworksMatchesCentralDifferences) {
  const MlpShape two{5, {7, 6}, 3};
  const std::vector<std::vector<int>> kept_two = {{0, 2, 5, 6}, {1, 3, 4}};
  Submodel<double> model = gathered(initial_parameters<double>(two, 4), kept_two, 1.0);
  model.scales[0] << 2, 0.5, 3, 1.5;
  model.scales[1] << 0.7, 2, 1.25;
  EXPECT_EQ(entries(model).size(), 4u * 5 + 4 + 3 * 4 + 3 + 3 * 3 + 3);
  expect_gradient_matches_central_differences(model, sizes(kept_two));

  const MlpShape three{5, {7, 6, 4}, 3};
  const std::vector<std::vector<int>> kept_three = {{0, 1, 2, 3, 4, 5, 6}, {2, 5}, {0, 3}};
  Submodel<double> deep = gathered(initial_parameters<double>(three, 8), kept_three, 2.0);
  deep.scales[1] << 3, 0.5;
  expect_gradient_matches_central_differences(deep, sizes(kept_three));
}

TEST(Mlp, FullLogitsAreTheMeanOfTheSubmodelsLogitsUnderUnbiasedPerm) {
  // A partition of the 7 units among n = 3 workers, each unit scaled by n.
  const std::vector<std::vector<int>> blocks = {{0, 3, 5}, {1, 6}, {2, 4}};
  const auto full = initial_parameters<double>(kShape, 9);
  std::vector<int> all(7);
  std::iota(all.begin(), all.end(), 0);
  Submodel<double> whole = gathered(full, {all}, 1.0);
  auto workspace = loaded_workspace<double>(kShape, {7});
  forward(whole, workspace);
  const Eigen::MatrixXd full_logits = workspace.logits;
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(kBatch, kShape.classes);
  for (const auto& units : blocks) {
    Submodel<double> part = gathered(full, {units}, static_cast<double>(blocks.size()));
    auto part_workspace = loaded_workspace<double>(kShape, {static_cast<int>(units.size())});
    forward(part, part_workspace);
    mean += part_workspace.logits / static_cast<double>(blocks.size());
  }
  EXPECT_LT((mean - full_logits).norm(), 1e-12 * full_logits.norm());
}

// Two hidden layers, each partitioned among 2 workers and scaled by 2: the identity above
// holds only for the layer the partition is over. The ReLU of the second layer sees a scaled
// part of the first layer's sum, and relu(2a) + relu(2b) ≠ 2 relu(a + b) when a and b differ in
// sign: the mean of the submodels' logits is not the full model's (docs/theory.md §7).
TEST(Mlp, DeeperSubmodelsLogitsAreNotTheFullModelsOnAverage) {
  const MlpShape two{5, {8, 6}, 3};
  const auto full = initial_parameters<double>(two, 9);
  const std::vector<std::vector<std::vector<int>>> parts = {{{0, 2, 4, 6}, {0, 1, 2}},
                                                            {{1, 3, 5, 7}, {3, 4, 5}}};
  Submodel<double> whole = gathered(full, {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5}}, 1.0);
  auto workspace = loaded_workspace<double>(two, {8, 6});
  forward(whole, workspace);
  const Eigen::MatrixXd full_logits = workspace.logits;
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(kBatch, two.classes);
  for (const auto& units : parts) {
    auto part_workspace = loaded_workspace<double>(two, sizes(units));
    forward(gathered(full, units, 2.0), part_workspace);
    mean += part_workspace.logits / 2.0;
  }
  EXPECT_GT((mean - full_logits).norm(), 1e-3 * full_logits.norm());
}

TEST(Mlp, FloatGradientAgreesWithDouble) {
  Submodel<float> model_f = sample_submodel<float>();
  Submodel<double> model_d = sample_submodel<double>();
  auto workspace_f = loaded_workspace<float>(kShape, {3});
  auto workspace_d = loaded_workspace<double>(kShape, {3});
  Submodel<float> gradient_f = model_f;
  Submodel<double> gradient_d = model_d;
  const double loss_f = submodel_loss(model_f, 0.01, workspace_f, &gradient_f);
  const double loss_d = submodel_loss(model_d, 0.01, workspace_d, &gradient_d);
  EXPECT_NEAR(loss_f, loss_d, 1e-5 * loss_d);
  for (std::size_t l = 0; l < 2; ++l)
    EXPECT_LT((gradient_f.layers[l].weights.cast<double>() - gradient_d.layers[l].weights).norm(),
              1e-4 * gradient_d.layers[l].weights.norm());
}

// Class 1's logit 300 above the others: samples of classes 0 and 2 lose 300 nats each, and
// exp(−300) underflows in float (it did make the float loss inf); double does not underflow.
TEST(Mlp, FloatLossStaysFiniteWhenTheTrueClassLiesFarBelowTheLargestLogit) {
  Submodel<float> model_f = sample_submodel<float>();
  Submodel<double> model_d = sample_submodel<double>();
  model_f.layers[1].weights.setZero();
  model_d.layers[1].weights.setZero();
  model_f.layers[1].bias << 0, 300, 0;
  model_d.layers[1].bias << 0, 300, 0;
  auto workspace_f = loaded_workspace<float>(kShape, {3});
  auto workspace_d = loaded_workspace<double>(kShape, {3});
  Submodel<float> gradient_f = model_f;
  const double loss_f = submodel_loss(model_f, 0.0, workspace_f, &gradient_f);
  const double loss_d = submodel_loss<double>(model_d, 0.0, workspace_d, nullptr);
  EXPECT_NEAR(loss_d, 4.0 * 300.0 / kBatch, 1e-9);  // labels 0, 1, 2, 0, 1, 2
  EXPECT_NEAR(loss_f, loss_d, 1e-6 * loss_d);
  EXPECT_TRUE(gradient_f.layers[1].bias.allFinite());
}

TEST(Mlp, GatherCopiesTheKeptUnitsBlocksInOrder) {
  const auto full = initial_parameters<double>(kShape, 5);
  const Submodel<double> model = gathered(full, {{6, 2}}, 1.0);
  EXPECT_EQ(model.layers[0].weights.row(0), full.layers[0].weights.row(6));
  EXPECT_EQ(model.layers[0].bias[1], full.layers[0].bias[2]);
  EXPECT_EQ(model.layers[1].weights.col(0), full.layers[1].weights.col(6));
  EXPECT_EQ(model.layers[1].bias, full.layers[1].bias);
}

// Between two hidden layers a submodel keeps the entries joining kept units of both.
TEST(Mlp, GatherKeepsTheWeightsBetweenKeptUnitsOfConsecutiveLayers) {
  const auto full = initial_parameters<double>({5, {7, 6, 4}, 3}, 5);
  const Submodel<double> model = gathered(full, {{6, 2}, {1, 4, 5}, {3}}, 1.0);
  EXPECT_EQ(model.layers[1].weights.rows(), 3);
  EXPECT_EQ(model.layers[1].weights.cols(), 2);
  EXPECT_EQ(model.layers[1].weights(2, 0), full.layers[1].weights(5, 6));
  EXPECT_EQ(model.layers[1].weights(0, 1), full.layers[1].weights(1, 2));
  EXPECT_EQ(model.layers[1].bias[1], full.layers[1].bias[4]);
  EXPECT_EQ(model.layers[2].weights(0, 2), full.layers[2].weights(3, 5));
  EXPECT_EQ(model.layers[3].weights.col(0), full.layers[3].weights.col(3));
}

TEST(Mlp, InitialisationIsPytorchsUniformFanInAndFollowsTheSeed) {
  const MlpShape shape{784, {256}, 10};
  const auto first = initial_parameters<double>(shape, 1);
  EXPECT_LE(first.layers[0].weights.cwiseAbs().maxCoeff(), 1.0 / 28.0);
  EXPECT_GT(first.layers[0].weights.cwiseAbs().maxCoeff(), 0.99 / 28.0);
  EXPECT_LE(first.layers[1].weights.cwiseAbs().maxCoeff(), 1.0 / 16.0);
  EXPECT_NEAR(first.layers[0].weights.mean(), 0.0, 1e-3);
  EXPECT_EQ(first.layers[0].weights, initial_parameters<double>(shape, 1).layers[0].weights);
  EXPECT_NE(first.layers[0].weights, initial_parameters<double>(shape, 2).layers[0].weights);
}

// A deeper network draws its first and output layers as a one-layer network of the same first
// width and classes does (the same streams), and its middle layers from streams of their own.
TEST(Mlp, DeeperNetworksKeepTheFirstAndOutputLayersStreams) {
  const auto one = initial_parameters<double>({20, {16}, 4}, 3);
  const auto three = initial_parameters<double>({20, {16, 12, 16}, 4}, 3);
  EXPECT_EQ(three.layers[0].weights, one.layers[0].weights);
  EXPECT_EQ(three.layers[3].weights, one.layers[1].weights);
  EXPECT_NE(three.layers[1].weights.topLeftCorner(4, 4),
            three.layers[2].weights.topLeftCorner(4, 4));
  EXPECT_LE(three.layers[1].weights.cwiseAbs().maxCoeff(), 1.0 / 4.0);
  EXPECT_LE(three.layers[2].weights.cwiseAbs().maxCoeff(), 1.0 / std::sqrt(12.0));
}

TEST(Mlp, HiddenWidthsAreSpelledJoinedByDashes) {
  EXPECT_EQ(parse_widths("256"), std::vector<int>{256});
  EXPECT_EQ(parse_widths("512-256-128"), (std::vector<int>{512, 256, 128}));
  EXPECT_EQ(widths_text({512, 256}), "512-256");
  EXPECT_EQ(parse_widths("65536"), std::vector<int>{65536});
  EXPECT_EQ(parse_widths("1-1-1-1-1-1-1-1"), std::vector<int>(8, 1));
  for (const char* bad : {"", "0", "-5", "256-", "-", "0256", "65537", "512--256",
                          "1-1-1-1-1-1-1-1-1", "256.0", " 256", "2e3", "+256", "99999999999"})
    EXPECT_TRUE(parse_widths(bad).empty()) << bad;
}

TEST(Mlp, StepFlopsCountEveryLayersProducts) {
  // 784-512-256-10, everything kept, batch 128: forward 2B(784·512 + 512·256 + 256·10), the
  // weights' gradients as much again, and passing the gradient down through the upper two.
  const MlpShape shape{784, {512, 256}, 10};
  const double b = 128;
  const double products = 784.0 * 512 + 512.0 * 256 + 256.0 * 10;
  EXPECT_DOUBLE_EQ(submodel_step_flops(shape, shape.hidden, 128),
                   4 * b * products + 2 * b * (512.0 * 256 + 256.0 * 10));
  EXPECT_DOUBLE_EQ(shape.parameters(), 784.0 * 512 + 512 + 512.0 * 256 + 256 + 256.0 * 10 + 10);
}

}  // namespace
}  // namespace istlab
