// Sketches of docs/theory.md §2: structure of every draw, exact (1/n)Σ C_i = I for perm, and the
// closed-form moments against Monte Carlo for every sketch type and scale.

#include "istlab/sketch/sketch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "istlab/problem/generators.hpp"
#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

constexpr std::uint64_t kSeed = 2024;
constexpr SketchScale kAllScales[] = {SketchScale::kUnbiased, SketchScale::kNone,
                                      SketchScale::kSqrtN, SketchScale::kDiagPrecond};

// Heterogeneous dense problem: diagonals differ across coordinates and workers, so
// diag_precond scales are all different.
Quadratic heterogeneous_problem(int dim, int workers) {
  return make_problem(
      {.generator = "dense", .dim = dim, .num_workers = workers, .heterogeneity = 0.5, .seed = 77});
}

// c_i as a dense vector.
Vector sketch_vector(const WorkerSketch& sketch, int dim) {
  Vector c = Vector::Zero(dim);
  for (std::size_t t = 0; t < sketch.indices.size(); ++t) c[sketch.indices[t]] = sketch.scales[t];
  return c;
}

struct SketchCase {
  std::string label;
  SketchType type;
  int dim;
  int workers;
  int rand_q = 0;
};

std::vector<SketchCase> moment_cases() {
  return {
      {"perm d=12 n=4 (divisible)", SketchType::kPerm, 12, 4},
      {"perm d=10 n=4 (non-divisible)", SketchType::kPerm, 10, 4},
      {"perm d=3 n=7 (d<n, uneven)", SketchType::kPerm, 3, 7},
      {"perm d=3 n=6 (d<n, even)", SketchType::kPerm, 3, 6},
      {"rand d=10 q=3", SketchType::kRand, 10, 3, 3},
      {"rand d=10 q=7 (drawn by complement)", SketchType::kRand, 10, 3, 7},
      {"identity d=5 n=3", SketchType::kIdentity, 5, 3},
  };
}

// Monte-Carlo E[c_i] and E[c_i c_iᵀ] over `rounds` rounds, with each entry's standard error.
struct MonteCarloMoments {
  std::vector<Vector> first, first_error;
  std::vector<DenseMatrix> second, second_error;
};

MonteCarloMoments monte_carlo_moments(const Sketcher& sketcher, int dim, int workers, int rounds) {
  MonteCarloMoments mc;
  std::vector<Vector> first_squares(workers, Vector::Zero(dim));
  std::vector<DenseMatrix> second_squares(workers, DenseMatrix::Zero(dim, dim));
  mc.first.assign(workers, Vector::Zero(dim));
  mc.second.assign(workers, DenseMatrix::Zero(dim, dim));
  RoundSketch round = sketcher.make_round();
  for (int k = 0; k < rounds; ++k) {
    sketcher.draw(kSeed, k, round);
    for (int i = 0; i < workers; ++i) {
      const Vector c = sketch_vector(round.workers[i], dim);
      const DenseMatrix outer = c * c.transpose();
      mc.first[i] += c;
      first_squares[i] += c.cwiseAbs2();
      mc.second[i] += outer;
      second_squares[i] += outer.cwiseAbs2();
    }
  }
  mc.first_error.resize(workers);
  mc.second_error.resize(workers);
  for (int i = 0; i < workers; ++i) {
    mc.first[i] /= rounds;
    mc.second[i] /= rounds;
    const Vector first_variance =
        (first_squares[i] / rounds - mc.first[i].cwiseAbs2()).cwiseMax(0.0);
    const DenseMatrix second_variance =
        (second_squares[i] / rounds - mc.second[i].cwiseAbs2()).cwiseMax(0.0);
    mc.first_error[i] = (first_variance / rounds).cwiseSqrt();
    mc.second_error[i] = (second_variance / rounds).cwiseSqrt();
  }
  return mc;
}

TEST(Sketch, ClosedFormMomentsMatchMonteCarloForEveryTypeAndScale) {
  constexpr int kRounds = 20000;
  // 6 standard errors per entry (estimated from the same samples), plus rounding: a wrong
  // closed form (wrong probability or scale) is off by tens of standard errors at this N.
  // Entries that never vary (e.g. P(j,k ∈ S_i) = 0 when d < n) must then match to rounding.
  constexpr double kSigmas = 6.0;
  for (const SketchCase& sketch_case : moment_cases()) {
    const Quadratic problem = heterogeneous_problem(sketch_case.dim, sketch_case.workers);
    for (const SketchScale scale : kAllScales) {
      SCOPED_TRACE(sketch_case.label + ", scale " + std::string(name(scale)));
      const SketchSpec spec{sketch_case.type, scale, sketch_case.rand_q};
      const Sketcher sketcher(spec, problem);
      const std::vector<WorkerMoments> exact = sketch_moments(spec, problem);
      ASSERT_EQ(exact.size(), static_cast<std::size_t>(sketch_case.workers));
      const MonteCarloMoments mc =
          monte_carlo_moments(sketcher, sketch_case.dim, sketch_case.workers, kRounds);
      for (int i = 0; i < sketch_case.workers; ++i) {
        const DenseMatrix exact_second = exact[i].second_matrix();
        for (int j = 0; j < sketch_case.dim; ++j) {
          EXPECT_NEAR(mc.first[i][j], exact[i].first[j],
                      kSigmas * mc.first_error[i][j] + 1e-12 * (1 + std::abs(exact[i].first[j])))
              << "worker " << i << " j " << j;
          for (int k = 0; k < sketch_case.dim; ++k) {
            EXPECT_DOUBLE_EQ(exact[i].second(j, k), exact_second(j, k));
            EXPECT_NEAR(
                mc.second[i](j, k), exact_second(j, k),
                kSigmas * mc.second_error[i](j, k) + 1e-12 * (1 + std::abs(exact_second(j, k))))
                << "worker " << i << " (" << j << ", " << k << ")";
          }
        }
      }
    }
  }
}

TEST(Sketch, UnbiasedScaleHasFirstMomentOne) {
  for (const SketchCase& sketch_case : moment_cases()) {
    SCOPED_TRACE(sketch_case.label);
    const Quadratic problem = heterogeneous_problem(sketch_case.dim, sketch_case.workers);
    for (const WorkerMoments& moments :
         sketch_moments({sketch_case.type, SketchScale::kUnbiased, sketch_case.rand_q}, problem))
      EXPECT_LE((moments.first - Vector::Ones(sketch_case.dim)).cwiseAbs().maxCoeff(), 1e-15);
  }
}

TEST(Sketch, SpecClosedFormsForPermAndRand) {
  // Perm-q unbiased, d = q·n: n on the diagonal, n(q−1)/(d−1) off it.
  {
    const double d = 12, n = 4, q = 3;
    const Quadratic problem = heterogeneous_problem(12, 4);
    for (const WorkerMoments& moments :
         sketch_moments({SketchType::kPerm, SketchScale::kUnbiased, 0}, problem)) {
      const DenseMatrix second = moments.second_matrix();
      for (int j = 0; j < 12; ++j)
        for (int k = 0; k < 12; ++k)
          EXPECT_NEAR(second(j, k), j == k ? n : n * (q - 1) / (d - 1), 1e-14);
    }
  }
  // Rand-q unbiased: d/q on the diagonal, d(q−1)/(q(d−1)) off it.
  {
    const double d = 10, q = 3;
    const Quadratic problem = heterogeneous_problem(10, 3);
    for (const WorkerMoments& moments :
         sketch_moments({SketchType::kRand, SketchScale::kUnbiased, 3}, problem)) {
      const DenseMatrix second = moments.second_matrix();
      for (int j = 0; j < 10; ++j)
        for (int k = 0; k < 10; ++k)
          EXPECT_NEAR(second(j, k), j == k ? d / q : d * (q - 1) / (q * (d - 1)), 1e-14);
    }
  }
  // Perm-1 with n = d and diag_precond: M2_i = Diag(L_i)⁻¹, so M2_i ∘ L_i has unit diagonal.
  {
    const Quadratic problem = heterogeneous_problem(5, 5);
    const auto moments = sketch_moments({SketchType::kPerm, SketchScale::kDiagPrecond, 0}, problem);
    for (int i = 0; i < 5; ++i) {
      const DenseMatrix weighted = moments[i].second_matrix().cwiseProduct(problem.dense_matrix(i));
      EXPECT_LE((weighted - DenseMatrix::Identity(5, 5)).cwiseAbs().maxCoeff(), 1e-14);
    }
  }
}

TEST(Sketch, PermReconstructsIdentityEveryRoundAndHasTheRightStructure) {
  for (const SketchCase& sketch_case : moment_cases()) {
    if (sketch_case.type != SketchType::kPerm) continue;
    SCOPED_TRACE(sketch_case.label);
    const int dim = sketch_case.dim;
    const int workers = sketch_case.workers;
    const Quadratic problem = heterogeneous_problem(dim, workers);
    const Sketcher sketcher({SketchType::kPerm, SketchScale::kUnbiased, 0}, problem);
    RoundSketch round = sketcher.make_round();
    for (int k = 0; k < 500; ++k) {
      sketcher.draw(kSeed, k, round);
      Vector summed_scale = Vector::Zero(dim);
      std::vector<int> holders(dim, 0);
      for (int i = 0; i < workers; ++i) {
        const WorkerSketch& sketch = round.workers[i];
        ASSERT_EQ(sketch.indices.size(), sketch.scales.size());
        EXPECT_TRUE(std::adjacent_find(sketch.indices.begin(), sketch.indices.end(),
                                       [](int a, int b) { return a >= b; }) == sketch.indices.end())
            << "indices sorted and distinct";
        const auto size = static_cast<int>(sketch.indices.size());
        if (dim >= workers) {
          EXPECT_TRUE(size == dim / workers || size == (dim + workers - 1) / workers) << size;
        } else {
          EXPECT_EQ(size, 1);  // d < n: exactly one coordinate per worker
        }
        for (int t = 0; t < size; ++t) {
          ASSERT_GE(sketch.indices[t], 0);
          ASSERT_LT(sketch.indices[t], dim);
          summed_scale[sketch.indices[t]] += sketch.scales[t];
          ++holders[sketch.indices[t]];
        }
      }
      for (int j = 0; j < dim; ++j) {
        // (1/n) Σ_i C_i = I: the scales n/m_j of a coordinate's holders add up to n.
        EXPECT_NEAR(summed_scale[j] / workers, 1.0, 1e-15) << "round " << k << " j " << j;
        if (dim >= workers) {
          EXPECT_EQ(holders[j], 1);  // disjoint blocks that cover [d]
        } else {
          EXPECT_TRUE(holders[j] == workers / dim || holders[j] == (workers + dim - 1) / dim)
              << holders[j];
        }
      }
    }
  }
}

TEST(Sketch, PermKeepsEachCoordinateWithEqualProbability) {
  // docs/theory.md §2: P(j ∈ S_i) = 1/n for d ≥ n (also when n ∤ d); for d < n each worker keeps
  // one uniformly random coordinate, P = 1/d.
  constexpr int kRounds = 40000;
  for (const SketchCase& sketch_case : moment_cases()) {
    if (sketch_case.type != SketchType::kPerm) continue;
    SCOPED_TRACE(sketch_case.label);
    const int dim = sketch_case.dim;
    const int workers = sketch_case.workers;
    const Quadratic problem = heterogeneous_problem(dim, workers);
    const Sketcher sketcher({SketchType::kPerm, SketchScale::kNone, 0}, problem);
    RoundSketch round = sketcher.make_round();
    DenseMatrix kept = DenseMatrix::Zero(dim, workers);
    for (int k = 0; k < kRounds; ++k) {
      sketcher.draw(kSeed + 1, k, round);
      for (int i = 0; i < workers; ++i)
        for (int j : round.workers[i].indices) kept(j, i) += 1;
    }
    const double p = dim >= workers ? 1.0 / workers : 1.0 / dim;
    const double standard_error = std::sqrt(p * (1 - p) / kRounds);  // binomial
    for (int i = 0; i < workers; ++i)
      for (int j = 0; j < dim; ++j)
        EXPECT_NEAR(kept(j, i) / kRounds, p, 6 * standard_error) << i << " " << j;
  }
}

TEST(Sketch, RandKeepsExactlyQDistinctSortedCoordinates) {
  for (const int q : {1, 3, 7, 10}) {
    const Quadratic problem = heterogeneous_problem(10, 3);
    const Sketcher sketcher({SketchType::kRand, SketchScale::kUnbiased, q}, problem);
    RoundSketch round = sketcher.make_round();
    for (int k = 0; k < 300; ++k) {
      sketcher.draw(kSeed, k, round);
      for (const WorkerSketch& sketch : round.workers) {
        ASSERT_EQ(static_cast<int>(sketch.indices.size()), q);
        ASSERT_EQ(static_cast<int>(sketch.scales.size()), q);
        EXPECT_TRUE(std::adjacent_find(sketch.indices.begin(), sketch.indices.end(),
                                       [](int a, int b) { return a >= b; }) ==
                    sketch.indices.end());
        EXPECT_GE(sketch.indices.front(), 0);
        EXPECT_LT(sketch.indices.back(), 10);
        for (double scale : sketch.scales) EXPECT_DOUBLE_EQ(scale, 10.0 / q);
      }
    }
  }
  // rand_q = 0 resolves to ⌈d/n⌉; out-of-range q is rejected.
  EXPECT_EQ((SketchSpec{SketchType::kRand, SketchScale::kUnbiased, 0}.resolved_rand_q(10, 3)), 4);
  EXPECT_THROW((SketchSpec{SketchType::kRand, SketchScale::kUnbiased, 11}.validate(10)),
               std::invalid_argument);
  EXPECT_THROW((SketchSpec{SketchType::kRand, SketchScale::kUnbiased, -1}.validate(10)),
               std::invalid_argument);
}

// The top-up draw of q distinct coordinates written plainly: draw the missing number with
// replacement, sort, drop repeats, until q remain (the complement for q > d/2).
std::vector<int> top_up_reference(RandomStream& stream, int dim, int count) {
  const bool complement = 2 * count > dim;
  const int draws = complement ? dim - count : count;
  std::vector<int> chosen;
  while (static_cast<int>(chosen.size()) < draws) {
    const int missing = draws - static_cast<int>(chosen.size());
    for (int t = 0; t < missing; ++t) chosen.push_back(static_cast<int>(stream.below(dim)));
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  }
  if (!complement) return chosen;
  std::vector<int> kept;
  for (int j = 0; j < dim; ++j)
    if (!std::binary_search(chosen.begin(), chosen.end(), j)) kept.push_back(j);
  return kept;
}

// Rand draws with many coordinates use a bitmap instead of re-sorting; they must keep
// exactly the coordinates the top-up loop keeps, from the same stream.
TEST(Sketch, RandDrawsEqualThePlainTopUpDraw) {
  for (const int dim : {5, 31, 32, 33, 100, 1000, 4096}) {
    for (const int q :
         {1, 2, dim / 256 + 1, dim / 32 + 1, dim / 4, dim / 2, dim / 2 + 1, dim - 1, dim}) {
      if (q < 1 || q > dim) continue;
      const Quadratic problem =
          make_problem({.generator = "tridiagonal", .dim = dim, .num_workers = 3, .mu = 0.1});
      const Sketcher sketcher({SketchType::kRand, SketchScale::kUnbiased, q}, problem);
      RoundSketch round = sketcher.make_round();
      for (int k = 0; k < 5; ++k) {
        sketcher.draw(kSeed, k, round);
        for (int worker = 0; worker < 3; ++worker) {
          RandomStream stream(kSeed, StreamPurpose::kWorker, static_cast<std::uint64_t>(k),
                              static_cast<std::uint64_t>(worker));
          ASSERT_EQ(round.workers[worker].indices, top_up_reference(stream, dim, q))
              << "d = " << dim << ", q = " << q << ", round " << k << ", worker " << worker;
        }
      }
    }
  }
}

TEST(Sketch, IdentityKeepsEverything) {
  const Quadratic problem = heterogeneous_problem(6, 3);
  const Sketcher sketcher({SketchType::kIdentity, SketchScale::kUnbiased, 0}, problem);
  RoundSketch round = sketcher.make_round();
  sketcher.draw(kSeed, 4, round);
  for (const WorkerSketch& sketch : round.workers) {
    EXPECT_EQ(sketch.indices, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(sketch.scales, std::vector<double>(6, 1.0));
  }
  EXPECT_DOUBLE_EQ(round.mean_support(), 6.0);
}

TEST(Sketch, ScaleValuesFollowTheSpec) {
  EXPECT_DOUBLE_EQ(scale_value(SketchScale::kUnbiased, 4.0, 9.0), 4.0);
  EXPECT_DOUBLE_EQ(scale_value(SketchScale::kNone, 4.0, 9.0), 1.0);
  EXPECT_DOUBLE_EQ(scale_value(SketchScale::kSqrtN, 4.0, 9.0), 2.0);
  EXPECT_DOUBLE_EQ(scale_value(SketchScale::kDiagPrecond, 4.0, 9.0), 2.0 / 3.0);  // √n·L_jj^(−1/2)
  EXPECT_EQ(parse_sketch_type("perm"), SketchType::kPerm);
  EXPECT_EQ(parse_sketch_scale("diag_precond"), SketchScale::kDiagPrecond);
  EXPECT_THROW(parse_sketch_type("permutation"), std::invalid_argument);
  EXPECT_THROW(parse_sketch_scale("biased"), std::invalid_argument);
}

TEST(Sketch, DrawsAreDeterministicPerSeedAndRound) {
  for (const SketchCase& sketch_case : moment_cases()) {
    if (sketch_case.type == SketchType::kIdentity) continue;
    SCOPED_TRACE(sketch_case.label);
    const Quadratic problem = heterogeneous_problem(sketch_case.dim, sketch_case.workers);
    const Sketcher sketcher({sketch_case.type, SketchScale::kUnbiased, sketch_case.rand_q},
                            problem);
    auto draw = [&](std::uint64_t seed, std::int64_t k) {
      RoundSketch round = sketcher.make_round();
      sketcher.draw(seed, k, round);
      std::vector<std::vector<int>> indices;
      for (const auto& worker : round.workers) indices.push_back(worker.indices);
      return indices;
    };
    // Drawing other rounds in between must not matter: a round depends on (seed, round) only.
    RoundSketch reused = sketcher.make_round();
    sketcher.draw(kSeed, 99, reused);
    sketcher.draw(kSeed, 5, reused);
    std::vector<std::vector<int>> reused_indices;
    for (const auto& worker : reused.workers) reused_indices.push_back(worker.indices);
    EXPECT_EQ(draw(kSeed, 5), reused_indices);
    EXPECT_EQ(draw(kSeed, 5), draw(kSeed, 5));
    // Different rounds (or seeds) differ: check a few, since two rounds may coincide by chance
    // when the number of possible sketches is small.
    int different_rounds = 0;
    int different_seeds = 0;
    for (int k = 0; k < 10; ++k) {
      different_rounds += draw(kSeed, k) != draw(kSeed, k + 1) ? 1 : 0;
      different_seeds += draw(kSeed, k) != draw(kSeed + 1, k) ? 1 : 0;
    }
    EXPECT_GE(different_rounds, 5);
    EXPECT_GE(different_seeds, 5);
  }
}

TEST(Sketch, DrawingReusesTheRoundsBuffers) {
  // docs/theory.md §3: a round must not allocate; the sketch buffers are sized once by make_round.
  for (const SketchCase& sketch_case : moment_cases()) {
    SCOPED_TRACE(sketch_case.label);
    const Quadratic problem = heterogeneous_problem(sketch_case.dim, sketch_case.workers);
    const Sketcher sketcher({sketch_case.type, SketchScale::kUnbiased, sketch_case.rand_q},
                            problem);
    RoundSketch round = sketcher.make_round();
    std::vector<const int*> index_buffers;
    std::vector<const double*> scale_buffers;
    sketcher.draw(kSeed, 0, round);
    for (const auto& worker : round.workers) {
      index_buffers.push_back(worker.indices.data());
      scale_buffers.push_back(worker.scales.data());
      EXPECT_LE(static_cast<int>(worker.indices.size()), sketcher.max_support());
    }
    for (int k = 1; k < 200; ++k) {
      sketcher.draw(kSeed, k, round);
      for (std::size_t i = 0; i < round.workers.size(); ++i) {
        ASSERT_EQ(round.workers[i].indices.data(), index_buffers[i]);
        ASSERT_EQ(round.workers[i].scales.data(), scale_buffers[i]);
        ASSERT_LE(static_cast<int>(round.workers[i].indices.size()), sketcher.max_support());
      }
    }
  }
}

}  // namespace
}  // namespace istlab
