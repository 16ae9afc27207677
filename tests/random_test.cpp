// Counter-based random streams (docs/theory.md §5): reproducible from (seed, purpose, counters)
// alone, and the distributions they promise.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <vector>

#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

constexpr int kDraws = 100000;

std::vector<std::uint64_t> first_words(RandomStream stream, int count) {
  std::vector<std::uint64_t> words(count);
  for (auto& word : words) word = stream.next_u64();
  return words;
}

// Pearson's statistic of observed counts against equal expected counts.
double chi_square_uniform(const std::vector<int>& counts, int draws) {
  const double expected = static_cast<double>(draws) / static_cast<double>(counts.size());
  double statistic = 0.0;
  for (int count : counts) statistic += (count - expected) * (count - expected) / expected;
  return statistic;
}

TEST(RandomStream, SameKeyAndCountersGiveSameSequence) {
  const RandomStream stream(42, StreamPurpose::kWorker, 7, 3);
  // More than one Philox block (4 words), so the block counter is exercised too.
  EXPECT_EQ(first_words(stream, 50),
            first_words(RandomStream(42, StreamPurpose::kWorker, 7, 3), 50));

  RandomStream a(9, StreamPurpose::kRoundShared, 11);
  RandomStream b(9, StreamPurpose::kRoundShared, 11);
  for (int t = 0; t < 100; ++t) {
    ASSERT_EQ(a.uniform(), b.uniform());
    ASSERT_EQ(a.normal(), b.normal());
    ASSERT_EQ(a.below(17), b.below(17));
  }
}

TEST(RandomStream, DifferentKeyOrCountersGiveDifferentSequences) {
  const auto base = first_words(RandomStream(42, StreamPurpose::kWorker, 7, 3), 8);
  EXPECT_NE(base, first_words(RandomStream(42, StreamPurpose::kWorker, 8, 3), 8));   // counter a
  EXPECT_NE(base, first_words(RandomStream(42, StreamPurpose::kWorker, 7, 4), 8));   // counter b
  EXPECT_NE(base, first_words(RandomStream(43, StreamPurpose::kWorker, 7, 3), 8));   // seed
  EXPECT_NE(base, first_words(RandomStream(42, StreamPurpose::kProblem, 7, 3), 8));  // purpose
  // Swapping the two counters is a different stream, not the same one.
  EXPECT_NE(base, first_words(RandomStream(42, StreamPurpose::kWorker, 3, 7), 8));
  // Within one stream the words do not repeat (64-bit words: a repeat means a bug).
  auto words = first_words(RandomStream(1, StreamPurpose::kProblem), 1000);
  std::sort(words.begin(), words.end());
  EXPECT_EQ(std::adjacent_find(words.begin(), words.end()), words.end());
}

TEST(RandomStream, UniformIsInOpenUnitIntervalWithMeanHalf) {
  RandomStream stream(5, StreamPurpose::kProblem);
  double sum = 0.0;
  double sum_squares = 0.0;
  for (int t = 0; t < kDraws; ++t) {
    const double u = stream.uniform();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_squares += u * u;
  }
  const double mean = sum / kDraws;
  const double variance = sum_squares / kDraws - mean * mean;
  // sd(U) = 0.289, so the mean's standard error is 0.289/√1e5 ≈ 9e-4: allow 5σ.
  EXPECT_NEAR(mean, 0.5, 5 * 0.289 / std::sqrt(kDraws));
  // Var(U) = 1/12; the variance estimate's standard error is ≈ √(1/80 − 1/144)/√1e5 ≈ 2.4e-4.
  EXPECT_NEAR(variance, 1.0 / 12.0, 5 * 2.4e-4);
}

TEST(RandomStream, NormalHasMeanZeroVarianceOneAndGaussianMass) {
  RandomStream stream(6, StreamPurpose::kProblem);
  double sum = 0.0;
  double sum_squares = 0.0;
  int within_one = 0;
  for (int t = 0; t < kDraws; ++t) {
    const double z = stream.normal();
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sum_squares += z * z;
    within_one += std::abs(z) < 1.0 ? 1 : 0;
  }
  const double mean = sum / kDraws;
  const double variance = sum_squares / kDraws - mean * mean;
  // Standard errors: mean 1/√N ≈ 3.2e-3, variance √(2/N) ≈ 4.5e-3; allow 5σ.
  EXPECT_NEAR(mean, 0.0, 5 / std::sqrt(kDraws));
  EXPECT_NEAR(variance, 1.0, 5 * std::sqrt(2.0 / kDraws));
  // P(|Z| < 1) = 0.6827 catches a wrong shape with the right two moments; SE ≈ 1.5e-3.
  EXPECT_NEAR(static_cast<double>(within_one) / kDraws, 0.682689, 5 * 1.5e-3);
}

TEST(RandomStream, BelowIsInRangeAndUniform) {
  RandomStream stream(7, StreamPurpose::kWorker, 1, 2);
  for (const int bound : {7, 10, 1000}) {
    std::vector<int> counts(bound, 0);
    for (int t = 0; t < kDraws; ++t) {
      const std::uint64_t value = stream.below(static_cast<std::uint64_t>(bound));
      ASSERT_LT(value, static_cast<std::uint64_t>(bound));
      ++counts[value];
    }
    // χ² with k = bound − 1 degrees of freedom has mean k and sd √(2k); mean + 6 sd is
    // beyond the 1 − 1e-6 quantile for every k here.
    const double dof = bound - 1;
    EXPECT_LT(chi_square_uniform(counts, kDraws), dof + 6 * std::sqrt(2 * dof))
        << "bound " << bound;
  }
  EXPECT_EQ(stream.below(1), 0u);
  // A bound just above 2^63 rejects about half of the words: still in range.
  const std::uint64_t huge = (std::uint64_t{1} << 63) + 12345;
  for (int t = 0; t < 1000; ++t) ASSERT_LT(stream.below(huge), huge);
}

TEST(RandomStream, ShuffleGivesUniformPermutations) {
  RandomStream stream(8, StreamPurpose::kRoundShared, 3);
  std::vector<int> values(50);
  std::iota(values.begin(), values.end(), 0);
  stream.shuffle(std::span<int>(values));
  std::vector<int> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);  // a permutation
  EXPECT_NE(values, identity);  // and not the trivial one (probability 1/50!)

  // All 3! orders of three items equally likely (Fisher–Yates with an unbiased below()).
  std::map<std::array<int, 3>, int> counts;
  constexpr int kShuffles = 60000;
  for (int t = 0; t < kShuffles; ++t) {
    std::array<int, 3> triple = {0, 1, 2};
    stream.shuffle(std::span<int>(triple));
    ++counts[triple];
  }
  ASSERT_EQ(counts.size(), 6u);
  std::vector<int> observed;
  for (const auto& [order, count] : counts) observed.push_back(count);
  EXPECT_LT(chi_square_uniform(observed, kShuffles), 5 + 6 * std::sqrt(10.0));  // χ², 5 dof
}

}  // namespace
}  // namespace istlab
