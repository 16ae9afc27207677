#pragma once
// Splits of N labelled samples among n workers: the heterogeneity knob for real data. A split
// reads labels only (class_of_sample[i] ∈ [0, C)), so it does not depend on how a dataset was
// read. Every split returns, for each worker, its sample indices sorted ascending; the lists
// are disjoint. All draws come from RandomStream(seed, StreamPurpose::kSplit, ·, ·) with one
// sub-stream per (stage, attempt, class or worker), and the code is serial: the result
// depends on (labels, C, n, spec, seed) only, never on threads or call order.
//
// iid        NIID-Bench's "homo": a uniform permutation of [0, N) (Fisher–Yates) cut into n
//            consecutive blocks as numpy.array_split does: the first N mod n workers hold
//            ⌊N/n⌋+1 samples, the others ⌊N/n⌋, so sizes differ by at most 1. Covers [0, N).
//
// dirichlet  NIID-Bench's "noniid-labeldir" (Li, Diao, Chen, He, "Federated Learning on Non-IID
//            Data Silos: An Experimental Study", ICDE 2022), FedLab's hetero_dir_partition.
//            One attempt: for each class c in order 0..C-1, shuffle its samples, draw
//            p ~ Dir(α·1_n); workers already holding N/n samples or more (size·n ≥ N) get no
//            more ("balancing": p_w is set to 0 and p renormalised); the shuffled samples are
//            cut at ⌊(p_1+…+p_w)·m_c⌋, w = 1..n-1 (m_c = class size), with the last eligible
//            worker's cut at m_c exactly, so an ineligible worker receives exactly nothing.
//            Attempts repeat with fresh draws until every worker holds at least
//            `min_samples` samples (NIID-Bench: 10; FedLab: C by default); after
//            kDirichletMaxAttempts failures std::invalid_argument says so. Covers [0, N).
//            Gamma draws are kept as logarithms, so α ≪ 1 does not underflow to 0/0.
//
// classes    NIID-Bench's "noniid-#label{k}" (#C=k), FedLab's
//            label_skew_quantity_based_partition. Worker w holds class w mod C and k−1 further
//            distinct classes, each drawn uniformly (rejecting repeats). Each class's samples
//            are shuffled and cut as numpy.array_split does among the workers holding it, in
//            worker order (sizes differ by at most 1, the lower-numbered holders take the extra
//            samples). A class held by no worker (possible only when n < C) is assigned to
//            nobody: the lists then cover exactly the samples of the held classes, not [0, N).
//            With k = C every worker holds every class and each class is shared evenly.
//            If some worker ends with no sample at all (its classes have fewer samples than
//            holders), std::invalid_argument names it: a worker without data cannot train.
//
// sorted     No randomness: samples ordered by (label, index), cut into n consecutive blocks
//            of sizes as for iid, so each worker's labels are ≥ the previous worker's: the
//            label-sorted order McMahan et al.'s shards are cut from. Covers [0, N).
//
// NIID-Bench and FedLab shuffle each worker's list at the end; here lists are sorted instead
// (a worker's sampling order is the caller's business), which changes no worker's set.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "istlab/param/parameter.hpp"
#include "istlab/random/random_stream.hpp"

namespace istlab {

enum class SplitKind { kIid, kDirichlet, kClasses, kSorted };

// The dirichlet split gives up after this many attempts (each is O(N + n·C) work).
inline constexpr int kDirichletMaxAttempts = 1000;

struct SplitSpec {
  SplitKind kind = SplitKind::kIid;
  double concentration = 1.0;  // dirichlet: α ≥ 1e-300; large α → near iid, small → few classes
  int classes_per_worker = 1;  // classes: k, 1 ≤ k ≤ C
  int min_samples = 10;        // dirichlet: redraw until every worker holds at least this many

  // Throws ParameterError (a std::invalid_argument) naming the field and value: α finite and
  // ≥ 1e-300 (below that log(U)/α overflows), k ≥ 1, min_samples ≥ 0, 1 ≤ n ≤ N, C ≥ 1;
  // for dirichlet min_samples·n ≤ N; for classes k ≤ C. Fields a kind does not read are
  // range-checked only.
  void validate(int num_workers, std::int64_t num_samples, int num_classes) const;
};

// Names used in configs and CSV; parse_split_kind throws with the list of valid names.
std::string_view name(SplitKind kind);
SplitKind parse_split_kind(std::string_view text);
std::vector<std::string> split_kind_names();
std::vector<NameAndMeaning> split_kind_meanings();

// samples_of_worker[w] = the sorted sample indices worker w holds (see the top of this file).
// Throws std::invalid_argument when the spec is invalid, a label lies outside [0, C), or the
// split cannot be made (dirichlet attempts exhausted, a classes worker left empty).
std::vector<std::vector<std::int64_t>> split_samples(const std::vector<int>& class_of_sample,
                                                     int num_classes, int num_workers,
                                                     const SplitSpec& spec, std::uint64_t seed);

// counts[w] = number of samples worker w holds.
std::vector<std::int64_t> sample_counts(
    const std::vector<std::vector<std::int64_t>>& samples_of_worker);

// histogram[w][c] = number of worker w's samples with label c (num_workers × num_classes).
// Throws std::invalid_argument on an index outside [0, N) or a label outside [0, C).
std::vector<std::vector<std::int64_t>> label_histograms(
    const std::vector<int>& class_of_sample, int num_classes,
    const std::vector<std::vector<std::int64_t>>& samples_of_worker);

// A Gamma(shape, 1) draw by Marsaglia & Tsang, "A simple method for generating gamma
// variables", ACM TOMS 26(3), 2000: squeeze-and-reject on a transformed normal for shape ≥ 1,
// and G(a) = G(a+1)·U^(1/a) for shape < 1. Only the stream's normal() and uniform() are used,
// so the draws are the same on every platform. Throws std::invalid_argument unless shape is
// positive and finite.
double sample_gamma(RandomStream& stream, double shape);
// log of a Gamma(shape, 1) draw, finite even where the draw itself underflows (shape ≪ 1).
// sample_gamma(s, a) == exp(sample_log_gamma(s', a)) for equal streams s and s'.
double sample_log_gamma(RandomStream& stream, double shape);

}  // namespace istlab
