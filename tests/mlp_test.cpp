// The one-hidden-layer network of problem/mlp.hpp: gradients against finite differences for
// every parameter block, the unbiased perm identity (full logits = mean of the submodels'
// logits), float against double, and the kept units' blocks.

#include "istlab/problem/mlp.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

namespace istlab {
namespace {

constexpr MlpShape kShape{5, 7, 3};
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
MlpWorkspace<Scalar> loaded_workspace(const MlpShape& shape, int kept) {
  static const FeatureMatrix features = sample_features(kBatch, kShape.inputs);
  std::vector<int> classes(kBatch);
  for (int i = 0; i < kBatch; ++i) classes[i] = i % shape.classes;
  std::vector<std::int64_t> batch(kBatch);
  std::iota(batch.begin(), batch.end(), 0);
  MlpWorkspace<Scalar> workspace;
  workspace.resize(shape, kept, kBatch);
  load_batch(features, classes, batch, workspace);
  return workspace;
}

// Units 1, 4, 6 of the full model with scales 2, 0.5, 3.
template <class Scalar>
Submodel<Scalar> sample_submodel(std::uint64_t seed = 3) {
  const auto full = initial_parameters<Scalar>(kShape, seed);
  const std::vector<int> units = {1, 4, 6};
  Submodel<Scalar> model;
  model.resize(kShape, 3);
  model.gather(full, units);
  model.scales << 2, 0.5, 3;
  return model;
}

// Every entry of every parameter block of `model`, for perturbing one at a time.
std::vector<double*> entries(Submodel<double>& model) {
  std::vector<double*> all;
  auto add = [&](auto& matrix) {
    for (Eigen::Index k = 0; k < matrix.size(); ++k) all.push_back(matrix.data() + k);
  };
  add(model.hidden_weights);
  add(model.hidden_bias);
  add(model.output_weights);
  add(model.output_bias);
  return all;
}

TEST(Mlp, GradientOfEveryBlockMatchesCentralDifferences) {
  constexpr double kL2 = 0.03;
  Submodel<double> model = sample_submodel<double>();
  auto workspace = loaded_workspace<double>(kShape, 3);
  Submodel<double> gradient = model;
  submodel_loss(model, kL2, workspace, &gradient);
  Submodel<double> probe = model;
  const std::vector<double*> at = entries(probe);
  const std::vector<double*> analytic = entries(gradient);
  ASSERT_EQ(at.size(), 3u * 5 + 3 + 3 * 3 + 3);
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

TEST(Mlp, FullLogitsAreTheMeanOfTheSubmodelsLogitsUnderUnbiasedPerm) {
  // A partition of the 7 units among n = 3 workers, each unit scaled by n.
  const std::vector<std::vector<int>> blocks = {{0, 3, 5}, {1, 6}, {2, 4}};
  const auto full = initial_parameters<double>(kShape, 9);
  Submodel<double> whole;
  whole.resize(kShape, kShape.hidden);
  std::vector<int> all(kShape.hidden);
  std::iota(all.begin(), all.end(), 0);
  whole.gather(full, all);
  whole.scales.setOnes();
  auto workspace = loaded_workspace<double>(kShape, kShape.hidden);
  forward(whole, workspace);
  const Eigen::MatrixXd full_logits = workspace.logits;
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(kBatch, kShape.classes);
  for (const auto& units : blocks) {
    Submodel<double> part;
    part.resize(kShape, static_cast<int>(units.size()));
    part.gather(full, units);
    part.scales.setConstant(static_cast<double>(blocks.size()));
    auto part_workspace = loaded_workspace<double>(kShape, static_cast<int>(units.size()));
    forward(part, part_workspace);
    mean += part_workspace.logits / static_cast<double>(blocks.size());
  }
  EXPECT_LT((mean - full_logits).norm(), 1e-12 * full_logits.norm());
}

TEST(Mlp, FloatGradientAgreesWithDouble) {
  Submodel<float> model_f = sample_submodel<float>();
  Submodel<double> model_d = sample_submodel<double>();
  auto workspace_f = loaded_workspace<float>(kShape, 3);
  auto workspace_d = loaded_workspace<double>(kShape, 3);
  Submodel<float> gradient_f = model_f;
  Submodel<double> gradient_d = model_d;
  const double loss_f = submodel_loss(model_f, 0.01, workspace_f, &gradient_f);
  const double loss_d = submodel_loss(model_d, 0.01, workspace_d, &gradient_d);
  EXPECT_NEAR(loss_f, loss_d, 1e-5 * loss_d);
  EXPECT_LT((gradient_f.hidden_weights.cast<double>() - gradient_d.hidden_weights).norm(),
            1e-4 * gradient_d.hidden_weights.norm());
  EXPECT_LT((gradient_f.output_weights.cast<double>() - gradient_d.output_weights).norm(),
            1e-4 * gradient_d.output_weights.norm());
}

// Class 1's logit 300 above the others: samples of classes 0 and 2 lose 300 nats each, and
// exp(−300) underflows in float (it did make the float loss inf); double does not underflow.
TEST(Mlp, FloatLossStaysFiniteWhenTheTrueClassLiesFarBelowTheLargestLogit) {
  Submodel<float> model_f = sample_submodel<float>();
  Submodel<double> model_d = sample_submodel<double>();
  model_f.output_weights.setZero();
  model_d.output_weights.setZero();
  model_f.output_bias << 0, 300, 0;
  model_d.output_bias << 0, 300, 0;
  auto workspace_f = loaded_workspace<float>(kShape, 3);
  auto workspace_d = loaded_workspace<double>(kShape, 3);
  Submodel<float> gradient_f = model_f;
  const double loss_f = submodel_loss(model_f, 0.0, workspace_f, &gradient_f);
  const double loss_d = submodel_loss<double>(model_d, 0.0, workspace_d, nullptr);
  EXPECT_NEAR(loss_d, 4.0 * 300.0 / kBatch, 1e-9);  // labels 0, 1, 2, 0, 1, 2
  EXPECT_NEAR(loss_f, loss_d, 1e-6 * loss_d);
  EXPECT_TRUE(gradient_f.output_bias.allFinite());
}

TEST(Mlp, GatherCopiesTheKeptUnitsBlocksInOrder) {
  const auto full = initial_parameters<double>(kShape, 5);
  const std::vector<int> units = {6, 2};
  Submodel<double> model;
  model.resize(kShape, 2);
  model.gather(full, units);
  EXPECT_EQ(model.hidden_weights.row(0), full.hidden_weights.row(6));
  EXPECT_EQ(model.hidden_bias[1], full.hidden_bias[2]);
  EXPECT_EQ(model.output_weights.col(0), full.output_weights.col(6));
  EXPECT_EQ(model.output_bias, full.output_bias);
}

TEST(Mlp, InitialisationIsPytorchsUniformFanInAndFollowsTheSeed) {
  const auto first = initial_parameters<double>({784, 256, 10}, 1);
  EXPECT_LE(first.hidden_weights.cwiseAbs().maxCoeff(), 1.0 / 28.0);
  EXPECT_GT(first.hidden_weights.cwiseAbs().maxCoeff(), 0.99 / 28.0);
  EXPECT_LE(first.output_weights.cwiseAbs().maxCoeff(), 1.0 / 16.0);
  EXPECT_NEAR(first.hidden_weights.mean(), 0.0, 1e-3);
  EXPECT_EQ(first.hidden_weights, initial_parameters<double>({784, 256, 10}, 1).hidden_weights);
  EXPECT_NE(first.hidden_weights, initial_parameters<double>({784, 256, 10}, 2).hidden_weights);
}

}  // namespace
}  // namespace istlab
