// Rounds of gd, dcgd, ist and local_sgd on a network (method/network_workers.hpp and each method's
// own network round), with one, two and three hidden layers: the identities (ist with n = 1 is
// gd; ist with the identity sketch is local_sgd; dcgd with perm on identical workers is gd with
// one hidden layer, and deeper drops what joins units of different workers), the same bits for
// any thread count, floats by hand, and a short Fashion-MNIST run that learns.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <filesystem>
#include <numeric>
#include <random>

#include "istlab/data/catalog.hpp"
#include "istlab/data/readers.hpp"
#include "istlab/data/split.hpp"
#include "istlab/method/method.hpp"

namespace istlab {
namespace {

const MlpShape kShape{6, {8}, 3};
// The depths the identities are checked at.
const std::vector<MlpShape> kShapes = {kShape, {6, {8, 5}, 3}, {6, {8, 5, 4}, 3}};

struct Task {
  FeatureMatrix features;
  NetworkData data;
};

// 64 samples whose class is the sign pattern of two features; workers take `samples_of`.
Task make_task(const std::vector<std::vector<std::int64_t>>& samples_of, double l2 = 1e-3,
               const MlpShape& shape = kShape) {
  Task task;
  std::mt19937 random(5);
  std::normal_distribution<float> normal;
  task.features.resize(64, kShape.inputs);
  for (Eigen::Index k = 0; k < task.features.size(); ++k) task.features.data()[k] = normal(random);
  for (int i = 0; i < 64; ++i)
    task.data.class_of_sample.push_back(task.features(i, 0) > 0 ? (task.features(i, 1) > 0 ? 2 : 1)
                                                                : 0);
  task.data.samples_of_worker = samples_of;
  task.data.shape = shape;
  task.data.l2 = l2;
  return task;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> samples(static_cast<std::size_t>(last - first));
  std::iota(samples.begin(), samples.end(), first);
  return samples;
}

// A method's settings on a network, as a sweep's cell gives them.
struct RoundSettings {
  MethodSpec method;
  SketchSpec sketch;
  double step_size = 0.2;
};

MlpParameters<float> train(const Task& task, const RoundSettings& spec, int rounds,
                           int threads = 2) {
  auto model = initial_parameters<float>(task.data.shape, 11);
  NetworkData data = task.data;
  data.features = &task.features;
  NetworkRound method(data, spec.method, spec.sketch, spec.step_size);
  tbb::task_arena arena(threads);
  arena.execute([&] {
    for (int k = 0; k < rounds; ++k) method.run(7, k, model);
  });
  return model;
}

void expect_same_bits(const MlpParameters<float>& a, const MlpParameters<float>& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (std::size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].weights, b.layers[l].weights) << "layer " << l;
    EXPECT_EQ(a.layers[l].bias, b.layers[l].bias) << "layer " << l;
  }
}

RoundSettings spec_of(const std::string& method, SketchType sketch, int batch = 0) {
  RoundSettings spec;
  spec.method.name = method;
  spec.method.batch_size = batch;
  spec.sketch.type = sketch;
  return spec;
}

TEST(Network, IstWithOneWorkerIsGradientDescentBitForBit) {
  for (const MlpShape& shape : kShapes) {
    const Task task = make_task({range(0, 64)}, 1e-3, shape);
    for (const int batch : {0, 16}) {
      const auto ist = train(task, spec_of("ist", SketchType::kPerm, batch), 25);
      const auto gd = train(task, spec_of("gd", SketchType::kIdentity, batch), 25);
      expect_same_bits(ist, gd);
    }
  }
}

TEST(Network, LocalSgdWithOneStepOnOneWorkerIsGradientDescentBitForBit) {
  for (const MlpShape& shape : kShapes) {
    const Task task = make_task({range(0, 64)}, 1e-3, shape);
    expect_same_bits(train(task, spec_of("local_sgd", SketchType::kIdentity, 16), 20),
                     train(task, spec_of("gd", SketchType::kIdentity, 16), 20));
  }
}

// The identity sketch keeps every unit of every layer unscaled: each worker trains the whole
// model, and every parameter is the mean of all n copies, as local_sgd's.
TEST(Network, IstWithTheIdentitySketchIsLocalSgdBitForBit) {
  for (const MlpShape& shape : kShapes) {
    const Task task = make_task({range(0, 20), range(20, 44), range(44, 64)}, 1e-3, shape);
    RoundSettings ist = spec_of("ist", SketchType::kIdentity, 8);
    RoundSettings local_sgd = spec_of("local_sgd", SketchType::kIdentity, 8);
    ist.method.local_steps = local_sgd.method.local_steps = 3;
    expect_same_bits(train(task, ist, 10), train(task, local_sgd, 10));
  }
}

TEST(Network, DcgdWithPermOnIdenticalWorkersIsGradientDescent) {
  // n = 2: bit for bit ((1/2)(2g) = g exactly); n = 3: to rounding.
  const Task two = make_task({range(0, 64), range(0, 64)});
  expect_same_bits(train(two, spec_of("dcgd", SketchType::kPerm), 20),
                   train(two, spec_of("gd", SketchType::kIdentity), 20));
  const Task three = make_task({range(0, 64), range(0, 64), range(0, 64)});
  const auto dcgd = train(three, spec_of("dcgd", SketchType::kPerm), 20);
  const auto gd = train(three, spec_of("gd", SketchType::kIdentity), 20);
  EXPECT_LT((dcgd.layers[0].weights - gd.layers[0].weights).norm(),
            1e-5 * gd.layers[0].weights.norm());
}

// Deeper, one round from the same model on n = 2 identical workers: the first layer, the output
// layer and every bias move as gd moves them (each row, column or bias is one unit's, kept by one
// worker with scale 2); a weight between two hidden layers moves twice as far (kept with scale
// 2·2 when one worker keeps both its units) or not at all (its units are on different workers).
TEST(Network, DeeperDcgdWithPermOnIdenticalWorkersDropsWeightsBetweenWorkersUnits) {
  const MlpShape shape{6, {8, 6}, 3};
  const Task task = make_task({range(0, 64), range(0, 64)}, 1e-3, shape);
  const auto start = initial_parameters<float>(shape, 11);
  const auto dcgd = train(task, spec_of("dcgd", SketchType::kPerm), 1);
  const auto gd = train(task, spec_of("gd", SketchType::kIdentity), 1);
  for (const std::size_t l : {0, 2}) EXPECT_EQ(dcgd.layers[l].weights, gd.layers[l].weights);
  for (std::size_t l = 0; l < 3; ++l) EXPECT_EQ(dcgd.layers[l].bias, gd.layers[l].bias);
  const Eigen::MatrixXf gd_step = gd.layers[1].weights - start.layers[1].weights;
  const Eigen::MatrixXf dcgd_step = dcgd.layers[1].weights - start.layers[1].weights;
  int doubled = 0;
  int dropped = 0;
  for (Eigen::Index k = 0; k < gd_step.size(); ++k) {
    const float want = gd_step.data()[k];
    const float got = dcgd_step.data()[k];
    if (got == 0.0f) {
      ++dropped;
    } else {
      EXPECT_NEAR(got, 2 * want, 1e-6 + 1e-4 * std::abs(want)) << "entry " << k;
      ++doubled;
    }
  }
  // (each of the 6·8 entries is kept when its two units land on one worker: about half)
  EXPECT_GT(doubled, 10);
  EXPECT_GT(dropped, 10);
}

TEST(Network, EveryMethodGivesTheSameBitsWithOneOrTwoThreads) {
  for (const MlpShape& shape : kShapes) {
    const Task task = make_task({range(0, 20), range(20, 44), range(44, 64)}, 1e-3, shape);
    for (const std::string method : {"gd", "dcgd", "ist", "local_sgd"}) {
      RoundSettings spec = spec_of(method, SketchType::kPerm, 8);
      spec.method.local_steps = 3;
      expect_same_bits(train(task, spec, 10, 1), train(task, spec, 10, 2));
      spec.sketch.type = SketchType::kRand;
      expect_same_bits(train(task, spec, 10, 1), train(task, spec, 10, 2));
    }
  }
}

// A round whose local steps do not move the copies (step 0) writes back the mean of equal
// copies: every parameter stays where it was, to float rounding, however many workers held it.
// rand sketches overlap, so parameters between hidden layers have 0 to n holders: a wrong count
// of holders would scale them.
TEST(Network, WriteBackAveragesOverTheWorkersThatHeldEachParameter) {
  const MlpShape shape{6, {8, 6, 5}, 3};
  const Task task = make_task({range(0, 20), range(20, 44), range(44, 64)}, 1e-3, shape);
  RoundSettings spec = spec_of("ist", SketchType::kRand, 8);
  spec.sketch.rand_q = 4;
  spec.sketch.scale = SketchScale::kNone;
  spec.step_size = 0.0;
  const auto start = initial_parameters<float>(shape, 11);
  const auto after = train(task, spec, 3);
  for (std::size_t l = 0; l < start.layers.size(); ++l) {
    EXPECT_LT((after.layers[l].weights - start.layers[l].weights).cwiseAbs().maxCoeff(), 1e-6f);
    EXPECT_LT((after.layers[l].bias - start.layers[l].bias).cwiseAbs().maxCoeff(), 1e-6f);
  }
  spec.step_size = 0.2;  // (and the rounds do move it)
  EXPECT_GT((train(task, spec, 3).layers[1].weights - start.layers[1].weights).norm(), 1e-3);
}

TEST(Network, IstAndLocalSgdLowerTheTrainingLoss) {
  const Task task = make_task({range(0, 32), range(32, 64)});
  const std::vector<std::int64_t> all = range(0, 64);
  const double start = evaluate(initial_parameters<float>(kShape, 11), task.features,
                                task.data.class_of_sample, all, task.data.l2)
                           .loss;
  for (const std::string method : {"ist", "local_sgd"}) {
    RoundSettings spec = spec_of(method, SketchType::kPerm, 8);
    spec.method.local_steps = 2;
    const auto model = train(task, spec, 60);
    EXPECT_LT(evaluate(model, task.features, task.data.class_of_sample, all, task.data.l2).loss,
              0.7 * start);
  }
}

TEST(Network, FloatsPerWorkerFollowTheUnitsSent) {
  // d = 6, H = 8, C = 3: a unit is 6 + 1 + 3 = 10 floats, the model 8·10 + 3 = 83.
  NetworkData data = make_task({range(0, 32), range(32, 64)}).data;
  const FeatureMatrix features = make_task({}).features;
  data.features = &features;
  auto model = initial_parameters<float>(kShape, 1);
  auto counts = [&](const std::string& method) {
    const RoundSettings spec = spec_of(method, SketchType::kPerm);
    NetworkRound rounds(data, spec.method, spec.sketch, spec.step_size);
    return rounds.run(1, 0, model);
  };
  const RoundCounts gd = counts("gd");
  EXPECT_EQ(gd.floats_up, 83);
  EXPECT_EQ(gd.floats_down, 83);
  const RoundCounts dcgd = counts("dcgd");  // 4 units each, and b2
  EXPECT_EQ(dcgd.floats_up, 43);
  EXPECT_EQ(dcgd.floats_down, 83);
  const RoundCounts ist = counts("ist");
  EXPECT_EQ(ist.floats_up, 43);
  EXPECT_EQ(ist.floats_down, 43);
  EXPECT_EQ(ist.flops, submodel_step_flops(kShape, std::vector<int>{4}, 32));
  EXPECT_EQ(gd.flops, submodel_step_flops(kShape, std::vector<int>{8}, 32));
}

TEST(Network, DeeperFloatsPerWorkerCountTheWeightsBetweenKeptUnits) {
  // 6-8-5-3: the model 8·7 + 5·9 + 3·6 = 119 floats; a perm half keeps 4 and 2 or 3 units: its
  // layers 4·7, then k·(4 + 1) and 3·(k + 1): 28 + 10 + 9 = 47 for k = 2, 28 + 15 + 12 = 55 for 3.
  const MlpShape shape{6, {8, 5}, 3};
  const Task task = make_task({range(0, 32), range(32, 64)}, 1e-3, shape);
  NetworkData data = task.data;
  data.features = &task.features;
  auto model = initial_parameters<float>(shape, 1);
  const RoundSettings gd_spec = spec_of("gd", SketchType::kPerm);
  NetworkRound gd(data, gd_spec.method, gd_spec.sketch, gd_spec.step_size);
  EXPECT_EQ(gd.run(1, 0, model).floats_up, 119);
  const RoundSettings ist_spec = spec_of("ist", SketchType::kPerm);
  NetworkRound ist(data, ist_spec.method, ist_spec.sketch, ist_spec.step_size);
  const RoundCounts counts = ist.run(1, 0, model);
  EXPECT_EQ(counts.floats_up, (47 + 55) / 2.0);
  EXPECT_EQ(counts.floats_down, (47 + 55) / 2.0);
}

// The full model's mean loss and gradient over `samples`, in double.
struct ByHand {
  double loss = 0.0;
  Submodel<double> gradient;
};
ByHand by_hand(const MlpParameters<float>& model, const Task& task,
               const std::vector<std::int64_t>& samples) {
  const MlpShape shape = model.shape();
  std::vector<int> units(static_cast<std::size_t>(shape.hidden[0]));
  std::iota(units.begin(), units.end(), 0);
  MlpParameters<double> full;
  for (const auto& layer : model.layers)
    full.layers.push_back({layer.weights.cast<double>(), layer.bias.cast<double>()});
  Submodel<double> submodel;
  submodel.resize(shape, shape.hidden);
  submodel.gather(full, KeptUnits{units});
  submodel.scales[0].setOnes();
  MlpWorkspace<double> workspace;
  workspace.resize(shape, shape.hidden, static_cast<int>(samples.size()));
  load_batch(task.features, task.data.class_of_sample, samples, workspace);
  ByHand result{0.0, submodel};
  result.loss = submodel_loss(submodel, task.data.l2, workspace, &result.gradient);
  return result;
}

double squared_norm(const Submodel<double>& g) {
  double sum = 0.0;
  for (const auto& layer : g.layers) sum += layer.weights.squaredNorm() + layer.bias.squaredNorm();
  return sum;
}

// Workers of 10 and 54 samples: F = (f_1 + f_2)/2 and ∇F = (∇f_1 + ∇f_2)/2, while the pooled
// mean weighs them 10/64 and 54/64.
TEST(Network, TrainingMetricsAreTheEqualWeightMeanOverWorkers) {
  const Task task = make_task({range(0, 10), range(10, 64)});
  NetworkData data = task.data;
  data.features = &task.features;
  const auto model = train(task, spec_of("gd", SketchType::kIdentity), 15);
  const ByHand one = by_hand(model, task, range(0, 10));
  const ByHand two = by_hand(model, task, range(10, 64));
  auto mean = [](const Submodel<double>& a, double wa, const Submodel<double>& b, double wb) {
    Submodel<double> sum = a;
    for (std::size_t l = 0; l < sum.layers.size(); ++l) {
      sum.layers[l].weights = wa * a.layers[l].weights + wb * b.layers[l].weights;
      sum.layers[l].bias = wa * a.layers[l].bias + wb * b.layers[l].bias;
    }
    return sum;
  };
  const double equal_loss = 0.5 * (one.loss + two.loss);
  const double equal_grad = squared_norm(mean(one.gradient, 0.5, two.gradient, 0.5));
  const double pooled_loss = (10 * one.loss + 54 * two.loss) / 64;
  const double pooled_grad = squared_norm(mean(one.gradient, 10.0 / 64, two.gradient, 54.0 / 64));

  const TrainingMetrics metrics = training_metrics(model, data, data.samples_of_worker);
  EXPECT_NEAR(metrics.loss, equal_loss, 1e-5 * equal_loss);
  EXPECT_NEAR(metrics.grad_norm2, equal_grad, 1e-4 * equal_grad);
  EXPECT_NEAR(metrics.pooled_loss, pooled_loss, 1e-5 * pooled_loss);
  EXPECT_NEAR(metrics.pooled_grad_norm2, pooled_grad, 1e-4 * pooled_grad);
  // (the two objectives differ here by far more than the tolerances)
  EXPECT_GT(std::abs(equal_loss - pooled_loss), 1e-3 * equal_loss);
  EXPECT_GT(std::abs(equal_grad - pooled_grad), 1e-2 * equal_grad);
}

TEST(Network, ShortFashionMnistRunsReachEightyPercentTestAccuracy) {
  const std::string folder = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(folder + "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  DatasetRequest request;
  request.name = "fashion_mnist";
  request.scale = "unit";
  request.pooling = 2;
  const Dataset train_set = preprocess(read_raw_dataset(request), request);
  Dataset test_set =
      read_idx(folder + "t10k-images-idx3-ubyte.gz", folder + "t10k-labels-idx1-ubyte.gz");
  test_set.features /= 255.0f;  // as `unit` scales the training images: a/255, then pooled
  DatasetRequest pooling;
  pooling.pooling = 2;
  const Dataset test_pooled = preprocess(test_set, pooling);
  const LabelClasses classes = label_classes(train_set, kMaxClasses);
  const LabelClasses test_classes = label_classes(test_pooled, kMaxClasses);
  NetworkData data;
  data.features = &train_set.features;
  data.class_of_sample = classes.class_of_sample;
  data.samples_of_worker = split_samples(classes.class_of_sample, 10, 4, {}, 1);
  data.shape = {196, {64}, 10};
  std::vector<std::int64_t> test_samples = range(0, test_pooled.num_samples());
  for (const std::string method : {"gd", "ist"}) {
    RoundSettings spec = spec_of(method, SketchType::kPerm, 64);
    // IST's activations are scaled by n = 4: a step a quarter of GD's.
    spec.step_size = method == "ist" ? 0.05 : 0.2;
    spec.method.local_steps = method == "ist" ? 4 : 1;
    auto model = initial_parameters<float>(data.shape, 3);
    NetworkRound rounds(data, spec.method, spec.sketch, spec.step_size);
    for (int k = 0; k < 2000; ++k) rounds.run(1, k, model);
    const Evaluation test =
        evaluate(model, test_pooled.features, test_classes.class_of_sample, test_samples, 0.0);
    EXPECT_GE(test.accuracy, 0.80) << "method " << method;
    std::cout << "method " << method << ": test accuracy " << test.accuracy << ", test loss "
              << test.loss << "\n";
  }
}

}  // namespace
}  // namespace istlab
