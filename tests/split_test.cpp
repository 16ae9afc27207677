// Splits of samples among workers (data/split.hpp): every kind's defining property on
// synthetic labels, validation one rule per test, determinism, and the Gamma sampler's moments.

#include "istlab/data/split.hpp"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "istlab/param/parameter.hpp"
#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

using SamplesOfWorker = std::vector<std::vector<std::int64_t>>;

constexpr int kClasses = 10;
constexpr int kPerClass = 600;

// samples_per_class samples of each of num_classes labels, in an order shuffled by `seed`.
std::vector<int> shuffled_labels(int num_classes, int samples_per_class, std::uint64_t seed = 7) {
  std::vector<int> labels(static_cast<std::size_t>(num_classes) * samples_per_class);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i) % num_classes;
  RandomStream stream(seed, StreamPurpose::kProblem);
  stream.shuffle(std::span<int>(labels));
  return labels;
}

SplitSpec spec_of(SplitKind kind) {
  SplitSpec spec;
  spec.kind = kind;
  return spec;
}

// Each list sorted ascending, lists pairwise disjoint; returns their union, sorted.
std::vector<std::int64_t> checked_union(const SamplesOfWorker& samples_of_worker) {
  std::vector<std::int64_t> all;
  for (const auto& samples : samples_of_worker) {
    EXPECT_TRUE(std::is_sorted(samples.begin(), samples.end()));
    all.insert(all.end(), samples.begin(), samples.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a sample is held twice";
  return all;
}

std::vector<std::int64_t> range(std::int64_t count) {
  std::vector<std::int64_t> values(count);
  std::iota(values.begin(), values.end(), std::int64_t{0});
  return values;
}

// Total-variation distance of each worker's label distribution from the global one; max.
double max_tv_from_global(const std::vector<int>& labels, int num_classes,
                          const SamplesOfWorker& samples_of_worker) {
  const auto histogram = label_histograms(labels, num_classes, samples_of_worker);
  std::vector<double> global(num_classes, 0.0);
  for (int label : labels) global[label] += 1.0 / static_cast<double>(labels.size());
  double worst = 0.0;
  for (const auto& counts : histogram) {
    const double size = static_cast<double>(std::accumulate(counts.begin(), counts.end(), 0LL));
    double distance = 0.0;
    for (int c = 0; c < num_classes; ++c)
      distance += 0.5 * std::abs(static_cast<double>(counts[c]) / size - global[c]);
    worst = std::max(worst, distance);
  }
  return worst;
}

// Mean over workers of the share of their samples in their two largest classes.
double mean_top_two_share(const std::vector<int>& labels, int num_classes,
                          const SamplesOfWorker& samples_of_worker) {
  double total = 0.0;
  for (auto counts : label_histograms(labels, num_classes, samples_of_worker)) {
    std::sort(counts.rbegin(), counts.rend());
    const double size = static_cast<double>(std::accumulate(counts.begin(), counts.end(), 0LL));
    total += static_cast<double>(counts[0] + counts[1]) / size;
  }
  return total / static_cast<double>(samples_of_worker.size());
}

// --- names and validation ---------------------------------------------------------------

TEST(Split, NamesRoundTripAndUnknownNameListsTheValidOnes) {
  for (const auto& text : split_kind_names()) EXPECT_EQ(name(parse_split_kind(text)), text);
  EXPECT_EQ(split_kind_names(),
            (std::vector<std::string>{"iid", "dirichlet", "classes", "sorted"}));
  try {
    parse_split_kind("noniid");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "unknown split 'noniid'; valid: iid, dirichlet, classes, sorted");
  }
}

// The field a ParameterError names, or "" when validate() accepts.
std::string rejected_field(const SplitSpec& spec, int num_workers, std::int64_t num_samples,
                           int num_classes = kClasses) {
  try {
    spec.validate(num_workers, num_samples, num_classes);
  } catch (const ParameterError& error) {
    return error.name;
  }
  return "";
}

TEST(SplitValidate, AcceptsTheDefaults) {
  for (const auto& text : split_kind_names())
    EXPECT_EQ(rejected_field(spec_of(parse_split_kind(text)), 10, 6000), "") << text;
}

TEST(SplitValidate, ConcentrationMustBePositiveAndFinite) {
  SplitSpec spec = spec_of(SplitKind::kDirichlet);
  for (double bad : {0.0, -1.0, 1e-310, std::nan(""), std::numeric_limits<double>::infinity()}) {
    spec.concentration = bad;
    EXPECT_EQ(rejected_field(spec, 10, 6000), "concentration") << bad;
  }
  spec.concentration = 0.0;
  EXPECT_THROW(spec.validate(10, 6000, kClasses), std::invalid_argument);
}

TEST(SplitValidate, ClassesPerWorkerAtLeastOneAndAtMostTheClasses) {
  SplitSpec spec = spec_of(SplitKind::kClasses);
  spec.classes_per_worker = 0;
  EXPECT_EQ(rejected_field(spec, 10, 6000), "classes_per_worker");
  spec.classes_per_worker = 11;
  EXPECT_EQ(rejected_field(spec, 10, 6000), "classes_per_worker");
  spec.classes_per_worker = 10;
  EXPECT_EQ(rejected_field(spec, 10, 6000), "");
}

TEST(SplitValidate, MinSamplesNonNegativeAndAffordable) {
  SplitSpec spec = spec_of(SplitKind::kDirichlet);
  spec.min_samples = -1;
  EXPECT_EQ(rejected_field(spec, 10, 6000), "min_samples");
  spec.min_samples = 601;  // 601 · 10 > 6000
  EXPECT_EQ(rejected_field(spec, 10, 6000), "min_samples");
  spec.min_samples = 600;
  EXPECT_EQ(rejected_field(spec, 10, 6000), "");
  spec.kind = SplitKind::kIid;  // iid does not read min_samples' budget
  spec.min_samples = 10;
  EXPECT_EQ(rejected_field(spec, 2, 15), "");
}

TEST(SplitValidate, WorkersBetweenOneAndTheSamples) {
  const SplitSpec spec;
  EXPECT_EQ(rejected_field(spec, 0, 6000), "num_workers");
  EXPECT_EQ(rejected_field(spec, 6001, 6000), "num_workers");
  EXPECT_EQ(rejected_field(spec, 6000, 6000), "");
  EXPECT_EQ(rejected_field(spec, 10, 6000, 0), "num_classes");
}

TEST(SplitValidate, MessageNamesFieldValueAndRule) {
  SplitSpec spec = spec_of(SplitKind::kClasses);
  spec.classes_per_worker = 12;
  try {
    spec.validate(10, 6000, kClasses);
    FAIL() << "no exception";
  } catch (const ParameterError& error) {
    EXPECT_STREQ(error.what(),
                 "classes_per_worker = 12: must not exceed the number of classes, 10");
  }
}

TEST(Split, LabelOutsideTheClassesIsRejected) {
  std::vector<int> labels = shuffled_labels(kClasses, 20);
  labels[5] = kClasses;
  try {
    split_samples(labels, kClasses, 4, SplitSpec{}, 1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "sample 5 has class 10, outside [0, 10)");
  }
}

// --- every kind ---------------------------------------------------------------------------

TEST(Split, EveryKindIsDisjointAndCovers) {
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  for (const auto& text : split_kind_names()) {
    SplitSpec spec = spec_of(parse_split_kind(text));
    spec.classes_per_worker = 3;
    for (int num_workers : {1, 7, 10, 32}) {
      const auto split = split_samples(labels, kClasses, num_workers, spec, 11);
      ASSERT_EQ(split.size(), static_cast<std::size_t>(num_workers));
      // classes with n ≥ C holds every class (worker w holds w mod C), so it covers too.
      if (spec.kind == SplitKind::kClasses && num_workers < kClasses) continue;
      EXPECT_EQ(checked_union(split), range(kClasses * kPerClass)) << text << " " << num_workers;
    }
  }
}

TEST(Split, LabelHistogramsAndCountsOfAKnownSplit) {
  const std::vector<int> labels = {2, 0, 1, 2, 2, 0};
  const SamplesOfWorker split = {{0, 3}, {1, 2, 5}, {4}};
  EXPECT_EQ(sample_counts(split), (std::vector<std::int64_t>{2, 3, 1}));
  EXPECT_EQ(label_histograms(labels, 3, split), (SamplesOfWorker{{0, 0, 2}, {2, 1, 0}, {0, 0, 1}}));
  EXPECT_THROW(label_histograms(labels, 3, {{6}}), std::invalid_argument);
  EXPECT_THROW(label_histograms(labels, 2, split), std::invalid_argument);
}

// --- iid ----------------------------------------------------------------------------------

TEST(SplitIid, SizesDifferByAtMostOneTheFirstWorkersTakingTheRest) {
  const std::vector<int> labels = shuffled_labels(1, 6001);  // 6001 = 7·857 + 2
  const auto counts = sample_counts(split_samples(labels, 1, 7, SplitSpec{}, 3));
  EXPECT_EQ(counts, (std::vector<std::int64_t>{858, 858, 857, 857, 857, 857, 857}));
}

TEST(SplitIid, LabelHistogramsAreNearlyProportionalForLargeN) {
  // 15,000 samples a worker: the expected TV distance is ≈ 0.01.
  const std::vector<int> labels = shuffled_labels(kClasses, 6000);
  const auto split = split_samples(labels, kClasses, 4, SplitSpec{}, 5);
  EXPECT_LT(max_tv_from_global(labels, kClasses, split), 0.03);
}

// --- dirichlet ----------------------------------------------------------------------------

TEST(SplitDirichlet, EveryWorkerHoldsMinSamplesAndBalancingCapsSizes) {
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  SplitSpec spec = spec_of(SplitKind::kDirichlet);
  spec.concentration = 0.1;
  spec.min_samples = 50;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const auto counts = sample_counts(split_samples(labels, kClasses, 10, spec, seed));
    for (std::int64_t count : counts) {
      EXPECT_GE(count, 50);
      // A worker receives a class only while below N/n, so it ends below N/n + one class.
      EXPECT_LT(count, 6000 / 10 + kPerClass);
    }
  }
}

TEST(SplitDirichlet, LargeConcentrationIsNearIid) {
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  SplitSpec spec = spec_of(SplitKind::kDirichlet);
  spec.concentration = 1e4;
  const auto split = split_samples(labels, kClasses, 10, spec, 2);
  EXPECT_LT(max_tv_from_global(labels, kClasses, split), 0.03);
  for (std::int64_t count : sample_counts(split)) {
    EXPECT_GE(count, 590);
    EXPECT_LE(count, 610);
  }
}

TEST(SplitDirichlet, SmallConcentrationConcentratesEachWorkerOnFewClasses) {
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  SplitSpec spec = spec_of(SplitKind::kDirichlet);
  spec.concentration = 0.05;
  const auto split = split_samples(labels, kClasses, 10, spec, 2);
  // Under iid the top two classes hold ≈ 20%; under Dir(0.05) most of a worker's samples.
  EXPECT_GT(mean_top_two_share(labels, kClasses, split), 0.8);
  EXPECT_GT(max_tv_from_global(labels, kClasses, split), 0.5);
  const auto iid = split_samples(labels, kClasses, 10, SplitSpec{}, 2);
  EXPECT_LT(mean_top_two_share(labels, kClasses, iid), 0.3);
}

TEST(SplitDirichlet, TinyConcentrationStaysFinite) {
  // Gamma(1e-3) draws underflow to 0 as doubles; the split works on their logarithms.
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  SplitSpec spec = spec_of(SplitKind::kDirichlet);
  spec.concentration = 1e-3;
  spec.min_samples = 0;
  EXPECT_EQ(checked_union(split_samples(labels, kClasses, 10, spec, 4)), range(6000));
}

TEST(SplitDirichlet, GivesUpAfterTheAttemptCapWithAClearMessage) {
  // One class, 1000 samples, 100 workers needing 10 each: every Dir(1) share must land in
  // a window of width 1/1000 — never happens, though min_samples·n ≤ N passes validation.
  const std::vector<int> labels(1000, 0);
  SplitSpec spec = spec_of(SplitKind::kDirichlet);
  try {
    split_samples(labels, 1, 100, spec, 1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "dirichlet split: no draw gave every worker at least 10 samples in 1000 "
                 "attempts; lower min_samples or raise the concentration α (now 1)");
  }
}

// --- classes ------------------------------------------------------------------------------

TEST(SplitClasses, EachWorkerHoldsExactlyKClassesIncludingItsOwn) {
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  for (int k : {1, 2, 5, 10}) {
    SplitSpec spec = spec_of(SplitKind::kClasses);
    spec.classes_per_worker = k;
    const auto split = split_samples(labels, kClasses, 20, spec, 8);
    const auto histogram = label_histograms(labels, kClasses, split);
    std::vector<int> holders(kClasses, 0);
    for (int w = 0; w < 20; ++w) {
      EXPECT_EQ(std::count_if(histogram[w].begin(), histogram[w].end(),
                              [](std::int64_t count) { return count > 0; }),
                k);
      EXPECT_GT(histogram[w][w % kClasses], 0);
      for (int c = 0; c < kClasses; ++c) holders[c] += histogram[w][c] > 0;
    }
    // A class's samples are shared among its holders with sizes differing by at most 1.
    for (int c = 0; c < kClasses; ++c) {
      for (int w = 0; w < 20; ++w) {
        if (histogram[w][c] == 0) continue;
        EXPECT_LT(std::abs(histogram[w][c] * holders[c] - 600), holders[c]);
      }
    }
  }
}

TEST(SplitClasses, AllClassesPerWorkerSharesEveryClassEvenly) {
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  SplitSpec spec = spec_of(SplitKind::kClasses);
  spec.classes_per_worker = kClasses;
  const auto split = split_samples(labels, kClasses, 4, spec, 8);
  // 600 = 4·150: every worker holds exactly 150 of every class.
  for (const auto& counts : label_histograms(labels, kClasses, split))
    EXPECT_EQ(counts, std::vector<std::int64_t>(kClasses, 150));
}

TEST(SplitClasses, ClassesHeldByNoWorkerAreLeftOut) {
  // 3 workers with 2 classes each hold at most 6 of 10 classes; the others go to nobody.
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  SplitSpec spec = spec_of(SplitKind::kClasses);
  spec.classes_per_worker = 2;
  const auto split = split_samples(labels, kClasses, 3, spec, 9);
  std::set<int> held;
  for (const auto& samples : split)
    for (std::int64_t sample : samples) held.insert(labels[sample]);
  std::vector<std::int64_t> expected;
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (held.count(labels[i])) expected.push_back(static_cast<std::int64_t>(i));
  EXPECT_LE(held.size(), 6u);
  EXPECT_EQ(checked_union(split), expected);
}

TEST(SplitClasses, AWorkerLeftWithoutSamplesIsAnError) {
  // One sample per class, each class held by all 3 workers: workers 1 and 2 get nothing.
  SplitSpec spec = spec_of(SplitKind::kClasses);
  spec.classes_per_worker = 3;
  EXPECT_THROW(split_samples({0, 1, 2}, 3, 3, spec, 1), std::invalid_argument);
}

// --- sorted -------------------------------------------------------------------------------

TEST(SplitSorted, LabelsInBlocksGiveContiguousRanges) {
  std::vector<int> labels(6000);
  for (int i = 0; i < 6000; ++i) labels[i] = i / kPerClass;
  const auto split = split_samples(labels, kClasses, 7, spec_of(SplitKind::kSorted), 0);
  std::int64_t start = 0;
  for (int w = 0; w < 7; ++w) {
    const std::int64_t size = 6000 / 7 + (w < 6000 % 7 ? 1 : 0);
    std::vector<std::int64_t> expected(size);
    std::iota(expected.begin(), expected.end(), start);
    EXPECT_EQ(split[w], expected) << w;
    start += size;
  }
}

TEST(SplitSorted, EachWorkersLabelsFollowThePreviousWorkers) {
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  const auto split = split_samples(labels, kClasses, 7, spec_of(SplitKind::kSorted), 0);
  for (int w = 0; w + 1 < 7; ++w) {
    int highest = 0;
    int lowest = kClasses;
    for (std::int64_t sample : split[w]) highest = std::max(highest, labels[sample]);
    for (std::int64_t sample : split[w + 1]) lowest = std::min(lowest, labels[sample]);
    EXPECT_LE(highest, lowest) << w;
  }
  const auto counts = sample_counts(split);
  EXPECT_LE(*std::max_element(counts.begin(), counts.end()) -
                *std::min_element(counts.begin(), counts.end()),
            1);
}

// --- determinism --------------------------------------------------------------------------

TEST(Split, SameSeedSameSplitDifferentSeedDifferentSplit) {
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  for (const auto& text : split_kind_names()) {
    SplitSpec spec = spec_of(parse_split_kind(text));
    spec.classes_per_worker = 2;
    const auto first = split_samples(labels, kClasses, 10, spec, 21);
    EXPECT_EQ(first, split_samples(labels, kClasses, 10, spec, 21)) << text;
    if (spec.kind == SplitKind::kSorted)  // no randomness at all
      EXPECT_EQ(first, split_samples(labels, kClasses, 10, spec, 22));
    else
      EXPECT_NE(first, split_samples(labels, kClasses, 10, spec, 22)) << text;
  }
}

TEST(Split, SameSplitInArenasOfOneAndTwoThreads) {
  // The splits are serial; this guards the promise should they ever use TBB.
  const std::vector<int> labels = shuffled_labels(kClasses, kPerClass);
  for (const auto& text : split_kind_names()) {
    SplitSpec spec = spec_of(parse_split_kind(text));
    spec.concentration = 0.3;
    spec.classes_per_worker = 3;
    SamplesOfWorker one;
    SamplesOfWorker two;
    tbb::task_arena(1).execute([&] { one = split_samples(labels, kClasses, 10, spec, 5); });
    tbb::task_arena(2).execute([&] { two = split_samples(labels, kClasses, 10, spec, 5); });
    EXPECT_EQ(one, two) << text;
  }
}

// --- the Gamma sampler --------------------------------------------------------------------

TEST(SampleGamma, MeanAndVarianceEqualTheShape) {
  constexpr int kDraws = 100000;
  for (double shape : {0.05, 0.3, 1.0, 4.5}) {
    RandomStream stream(3, StreamPurpose::kSplit, 99, static_cast<std::uint64_t>(shape * 100));
    double sum = 0.0;
    double sum_of_squares = 0.0;
    for (int t = 0; t < kDraws; ++t) {
      const double draw = sample_gamma(stream, shape);
      ASSERT_GE(draw, 0.0);
      sum += draw;
      sum_of_squares += draw * draw;
    }
    const double mean = sum / kDraws;
    const double variance = sum_of_squares / kDraws - mean * mean;
    // Five standard errors: Var(mean) = a/N, Var(sample variance) ≈ (2a² + 6a)/N.
    EXPECT_NEAR(mean, shape, 5.0 * std::sqrt(shape / kDraws)) << shape;
    EXPECT_NEAR(variance, shape, 5.0 * std::sqrt((2 * shape * shape + 6 * shape) / kDraws))
        << shape;
  }
}

TEST(SampleGamma, LogDrawIsTheLogOfTheDrawAndStaysFinite) {
  RandomStream a(4, StreamPurpose::kSplit, 1, 2);
  RandomStream b(4, StreamPurpose::kSplit, 1, 2);
  for (int t = 0; t < 100; ++t) ASSERT_EQ(sample_gamma(a, 0.7), std::exp(sample_log_gamma(b, 0.7)));
  for (int t = 0; t < 100; ++t) ASSERT_TRUE(std::isfinite(sample_log_gamma(a, 1e-6)));
  EXPECT_THROW(sample_gamma(a, 0.0), std::invalid_argument);
  EXPECT_THROW(sample_gamma(a, std::nan("")), std::invalid_argument);
}

}  // namespace
}  // namespace istlab
