#include "bench_problems.hpp"

#include <tbb/parallel_for.h>

#include <cmath>
#include <map>
#include <memory>
#include <tuple>

#include "istlab/problem/generators.hpp"
#include "istlab/random/random_stream.hpp"

namespace istlab::bench {
namespace {

Quadratic make_dense_bench_problem(int dim, int num_workers) {
  std::vector<DenseMatrix> matrices(num_workers);
  std::vector<Vector> vectors(num_workers);
  const double off_diagonal_scale = 1.0 / (2.0 * std::sqrt(static_cast<double>(dim)));
  tbb::parallel_for(0, num_workers, [&](int worker) {
    RandomStream stream(1, StreamPurpose::kProblem, 100, static_cast<std::uint64_t>(worker));
    DenseMatrix gaussian(dim, dim);
    for (Eigen::Index j = 0; j < gaussian.size(); ++j) gaussian.data()[j] = stream.normal();
    DenseMatrix& matrix = matrices[worker];
    matrix = off_diagonal_scale * (gaussian + gaussian.transpose());
    matrix.diagonal().array() += 3.0;
    vectors[worker] = Vector(dim);
    for (int j = 0; j < dim; ++j)
      vectors[worker][j] = stream.normal() / std::sqrt(static_cast<double>(dim));
  });
  RandomStream start_stream(1, StreamPurpose::kProblem, 101, 0);
  Vector start(dim);
  for (int j = 0; j < dim; ++j)
    start[j] = start_stream.normal() / std::sqrt(static_cast<double>(dim));
  return Quadratic::dense(std::move(matrices), std::move(vectors), std::move(start));
}

}  // namespace

const Quadratic& cached_problem(Storage storage, int dim, int num_workers) {
  static std::map<std::tuple<Storage, int, int>, std::unique_ptr<Quadratic>> cache;
  auto& slot = cache[{storage, dim, num_workers}];
  if (!slot) {
    if (storage == Storage::kDense) {
      slot = std::make_unique<Quadratic>(make_dense_bench_problem(dim, num_workers));
    } else {
      ProblemSpec spec;
      spec.generator = "tridiagonal";
      spec.dim = dim;
      spec.num_workers = num_workers;
      spec.heterogeneity = 0.1;
      spec.mu = 1e-2;
      spec.seed = 1;
      slot = std::make_unique<Quadratic>(make_problem(spec));
    }
  }
  return *slot;
}

std::vector<RoundSketch> draw_rounds(const Sketcher& sketcher, int count) {
  std::vector<RoundSketch> rounds;
  for (int round = 0; round < count; ++round) {
    rounds.push_back(sketcher.make_round());
    sketcher.draw(1, round, rounds.back());
  }
  return rounds;
}

void set_round_counters(benchmark::State& state, double bytes_per_round, double flops_per_round) {
  using benchmark::Counter;
  const auto rounds = static_cast<double>(state.iterations());
  state.counters["bytes_per_round"] = bytes_per_round;
  state.counters["flops_per_round"] = flops_per_round;
  state.counters["bytes_per_second"] = Counter(bytes_per_round * rounds, Counter::kIsRate);
  state.counters["flops_per_second"] = Counter(flops_per_round * rounds, Counter::kIsRate);
}

}  // namespace istlab::bench
