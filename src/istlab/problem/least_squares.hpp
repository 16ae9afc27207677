#pragma once
// Least squares on a real dataset split among the workers, still a quadratic of docs/theory.md §1:
//
//   f_i(x) = (1/2m_i) ‖A_i x − y_i‖² + (λ/2) ‖x‖²
//          = ½ xᵀ L_i x − b_iᵀ x + const,   L_i = A_iᵀA_i/m_i + λI,   b_i = A_iᵀy_i/m_i,
//
// with A_i, y_i the m_i samples worker i holds (data/split.hpp) and the constant
// ‖y_i‖²/(2m_i) dropped (f_gap and every metric are differences, so it cancels). Targets y:
// the label as a number (`label`), ±1 for a set of classes against the rest (`classes`), or
// y = A x_true for a seeded x_true ~ N(0, I/d) (`planted`: with λ = 0 every worker's optimum
// is x_true, interpolation on real features). λ is `regularization`, or
// `relative_regularization` × λ_max of the data term (1/n) Σ A_iᵀA_i/m_i. Start point x⁰ = 0.

#include <cstdint>
#include <vector>

#include "istlab/data/catalog.hpp"
#include "istlab/data/split.hpp"
#include "istlab/problem/generators.hpp"

namespace istlab {

// The dataset a least_squares spec reads (file, pooling, scaling, bias).
DatasetRequest dataset_request(const ProblemSpec& spec);
SplitSpec split_spec(const ProblemSpec& spec);

// Rules between the spec and its dataset (throws ParameterError): the split fits the samples
// and classes (data/split.hpp's SplitSpec::validate), only iid splits real-valued targets, and
// positive_classes holds some of the labels but not all.
void check_least_squares_data(const ProblemSpec& spec, const Dataset& data,
                              const LabelClasses& classes);

// Shared with the other families built from data (throws ParameterError): the dataset's
// source keys agree (a name or a path with its format and labels; no key that means nothing
// for it) and a split is named; the split fits the dataset's samples and classes; whether the
// split reads a split parameter (α only for dirichlet, k only for classes).
void check_dataset_source(const ProblemSpec& spec);
void check_split_fits(const ProblemSpec& spec, const Dataset& data, const LabelClasses& classes);
bool split_reads(const ProblemSpec& spec, std::string_view parameter);

// Worker i's sample indices (sorted), as the spec's split draws them from its seed.
std::vector<std::vector<std::int64_t>> worker_samples(const ProblemSpec& spec,
                                                      const LabelClasses& classes);

// The target of every sample.
Vector least_squares_targets(const ProblemSpec& spec, const Dataset& data);

// gram = Σ over `rows` of a_r a_rᵀ (lower triangle and its mirror: exactly symmetric) and
// moment = Σ a_r y_r, in double, blocked by kGramChunk samples so that every entry is summed
// in the same order on every machine (Eigen splits the inner dimension by cache size only
// above that).
inline constexpr int kGramChunk = 128;
void accumulate_gram(const FeatureMatrix& features, const Vector& targets,
                     const std::vector<std::int64_t>& rows, DenseMatrix& gram, Vector& moment);

// The problem; `data` already preprocessed as dataset_request(spec) asks.
Quadratic make_least_squares(const ProblemSpec& spec, const Dataset& data,
                             const ParallelFor& parallel_for);

// Rules across the least_squares parameters (throws ParameterError).
void check_least_squares(const ProblemSpec& spec);
// Whether least_squares reads `parameter` given the spec's other choices (the split's α
// only for dirichlet, the file's format only for a path, ...).
bool least_squares_reads(const ProblemSpec& spec, std::string_view parameter);
double least_squares_problem_bytes(const ProblemSpec& spec);

std::vector<std::string> target_names();  // label, classes, planted

// "0-4", "0,2,4", "3" → the set of class labels (throws ParameterError when malformed).
std::vector<double> parse_class_set(const std::string& text);

}  // namespace istlab
