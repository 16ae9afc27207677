// One round of the network methods (src/istlab/method/network_workers.hpp) on ReLU networks in
// float, one worker's training step, and the float GEMM they are compared with:
//   BM_NetworkRound/<method>/<d>-<H>-<C>/n:<n>/threads:<t>/real_time
//       one round of gd, ist, dcgd or local_sgd (perm sketch over the hidden units for ist and
//       dcgd, one local step, 128 samples per worker) over n workers run in a tbb::task_arena
//       of t threads; one iteration is one round, the sketch draw included (it is part of run)
//   BM_NetworkWorkerStep/<d>-<widths>-<C>/threads:<t>/real_time
//       one worker's training step on the whole model (draw and load a batch of 128, forward,
//       backward, SGD update of its copy), t workers at once in a task_arena of t threads (as
//       istlab spends its threads: on workers, each step on one core); one iteration is t steps,
//       items_per_second the steps per second. bench/torch_reference.py times PyTorch's step.
//   BM_GemmFloat/d:<d>/real_time
//       C = A·B with d×d floats (Eigen, one thread): this machine's dense float rate in the
//       same run, the reference for a gd round's flop rate
// Counters: flops_per_round = every worker's flops (RoundCounts.flops · n, from
// submodel_step_flops), worker_flops_per_step = RoundCounts.flops, and flops_per_second.
// The data are synthetic (a round's time does not depend on the values): N = 128·n·8 samples
// with uniform features and labels, split contiguously among the workers (iid-like).

#include <tbb/task_arena.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>

#include "bench_problems.hpp"
#include "istlab/method/method.hpp"

namespace istlab::bench {
namespace {

constexpr int kBatch = 128;           // samples per worker and local step
constexpr int kBatchesPerWorker = 8;  // so that every round draws a different batch
constexpr std::uint32_t kDataSeed = 14;
constexpr std::uint64_t kModelSeed = 1;
// Small, so that thousands of timed rounds on random labels never drift into overflow.
constexpr double kStepSize = 1e-3;

struct NetworkSetup {
  FeatureMatrix features;
  NetworkData data;  // points at `features`
};

// Built once per (shape, n) and kept: Google Benchmark calls a benchmark several times.
const NetworkData& cached_data(const MlpShape& shape, int workers) {
  static std::map<std::tuple<int, std::vector<int>, int, int>, std::unique_ptr<NetworkSetup>> cache;
  auto& slot = cache[{shape.inputs, shape.hidden, shape.classes, workers}];
  if (slot) return slot->data;
  slot = std::make_unique<NetworkSetup>();
  const int per_worker = kBatch * kBatchesPerWorker;
  const int samples = per_worker * workers;
  std::mt19937 generator(kDataSeed);
  std::uniform_real_distribution<float> feature(0.0f, 1.0f);
  std::uniform_int_distribution<int> label(0, shape.classes - 1);
  slot->features.resize(samples, shape.inputs);
  for (Eigen::Index k = 0; k < slot->features.size(); ++k)
    slot->features.data()[k] = feature(generator);
  NetworkData& data = slot->data;
  data.features = &slot->features;
  data.shape = shape;
  data.class_of_sample.resize(static_cast<std::size_t>(samples));
  for (int& value : data.class_of_sample) value = label(generator);
  data.samples_of_worker.resize(static_cast<std::size_t>(workers));
  for (int worker = 0; worker < workers; ++worker)
    for (int r = 0; r < per_worker; ++r)
      data.samples_of_worker[static_cast<std::size_t>(worker)].push_back(
          static_cast<std::int64_t>(worker) * per_worker + r);
  return data;
}

void BM_NetworkRound(benchmark::State& state, const char* method, MlpShape shape) {
  const int workers = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const NetworkData& data = cached_data(shape, workers);
  const MethodSpec spec{.name = method, .local_steps = 1, .batch_size = kBatch};
  const bool sketched = spec.name == "ist" || spec.name == "dcgd";
  const SketchSpec sketch{sketched ? SketchType::kPerm : SketchType::kIdentity,
                          SketchScale::kUnbiased, 0};
  NetworkRound rounds(data, spec, sketch, kStepSize);
  MlpParameters<float> model = initial_parameters<float>(shape, kModelSeed);
  RoundCounts counts;
  tbb::task_arena arena(threads);
  arena.execute([&] {
    // An untimed round first: the workers' buffers are sized and touched there.
    std::int64_t round = 0;
    counts = rounds.run(kModelSeed, round++, model);
    for (auto _ : state) counts = rounds.run(kModelSeed, round++, model);
  });
  benchmark::DoNotOptimize(model.layers[0].weights.data());
  if (!all_finite(model)) {
    state.SkipWithError("the model diverged: lower kStepSize (non-finite values time differently)");
    return;
  }
  using benchmark::Counter;
  const double flops_per_round = counts.flops * workers;
  state.counters["flops_per_round"] = flops_per_round;
  state.counters["worker_flops_per_step"] = counts.flops / spec.local_steps;
  state.counters["flops_per_second"] =
      Counter(flops_per_round * static_cast<double>(state.iterations()), Counter::kIsRate);
}

void BM_NetworkWorkerStep(benchmark::State& state, MlpShape shape) {
  const int threads = static_cast<int>(state.range(0));
  const NetworkData& data = cached_data(shape, threads);
  NetworkWorkers workers(data, SketchSpec{}, kBatch, kStepSize);
  const MlpParameters<float> model = initial_parameters<float>(shape, kModelSeed);
  tbb::task_arena arena(threads);
  std::int64_t round = 0;
  arena.execute([&] {
    // Untimed: every worker's copy, buffers and first step (sized and touched there).
    workers.for_each_worker([&](int i) {
      workers.take_whole_model(i, model);
      workers.local_steps(i, kModelSeed, round, 1);
    });
    for (auto _ : state) {
      ++round;
      workers.for_each_worker([&](int i) { workers.local_steps(i, kModelSeed, round, 1); });
    }
  });
  const double flops = submodel_step_flops(shape, shape.hidden, kBatch);
  const auto steps = static_cast<double>(state.iterations()) * threads;
  using benchmark::Counter;
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
  state.counters["worker_flops_per_step"] = flops;
  state.counters["flops_per_second"] = Counter(flops * steps, Counter::kIsRate);
}

void BM_GemmFloat(benchmark::State& state) {
  const auto dim = static_cast<Eigen::Index>(state.range(0));
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(dim, dim);
  const Eigen::MatrixXf b = Eigen::MatrixXf::Random(dim, dim);
  Eigen::MatrixXf c = Eigen::MatrixXf::Zero(dim, dim);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  using benchmark::Counter;
  const auto d = static_cast<double>(dim);
  state.counters["flops_per_iteration"] = 2.0 * d * d * d;
  state.counters["flops_per_second"] =
      Counter(2.0 * d * d * d * static_cast<double>(state.iterations()), Counter::kIsRate);
}

struct MethodCase {
  const char* name;
  bool every_n;  // n = 1, 2, 4, 8; otherwise n = 4 only
};

// Registered by hand: the shape is part of the name, which Args alone cannot spell.
bool register_network_rounds() {
  constexpr std::array<MethodCase, 4> kMethods = {
      {{"gd", true}, {"ist", true}, {"dcgd", false}, {"local_sgd", false}}};
  const std::array<MlpShape, 2> kShapes = {{{784, {256}, 10}, {2048, {512}, 10}}};
  for (const MethodCase& method : kMethods) {
    for (const MlpShape& shape : kShapes) {
      const std::string name = "BM_NetworkRound/" + std::string(method.name) + "/" +
                               std::to_string(shape.inputs) + "-" + widths_text(shape.hidden) +
                               "-" + std::to_string(shape.classes);
      auto* bench = benchmark::RegisterBenchmark(name.c_str(), BM_NetworkRound, method.name, shape);
      bench->ArgNames({"n", "threads"});
      for (int workers : {1, 2, 4, 8})
        if (method.every_n || workers == 4)
          for (int threads : {1, 2}) bench->Args({workers, threads});
      bench->UseRealTime()->Unit(benchmark::kMicrosecond);
    }
  }
  const std::array<MlpShape, 2> kStepShapes = {{{784, {256}, 10}, {784, {512, 256}, 10}}};
  for (const MlpShape& shape : kStepShapes) {
    const std::string name = "BM_NetworkWorkerStep/" + std::to_string(shape.inputs) + "-" +
                             widths_text(shape.hidden) + "-" + std::to_string(shape.classes);
    benchmark::RegisterBenchmark(name.c_str(), BM_NetworkWorkerStep, shape)
        ->ArgName("threads")
        ->Arg(1)
        ->Arg(2)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  return true;
}

const bool registered = register_network_rounds();

BENCHMARK(BM_GemmFloat)
    ->ArgName("d")
    ->Arg(784)
    ->Arg(1024)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace istlab::bench
