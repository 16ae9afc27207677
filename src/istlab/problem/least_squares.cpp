#include "istlab/problem/least_squares.hpp"

#include <fmt/core.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

// The problem stream's sub-stream for x_true (generators.cpp uses parts 0–5).
constexpr std::uint64_t kPlantedPart = 6;

// Class labels are doubles: integers beyond 2^53 would merge.
constexpr long long kMaxLabel = 1LL << 53;

bool from_file(const ProblemSpec& spec) { return spec.dataset.empty(); }

[[noreturn]] void refuse(const std::string& name, const std::string& value, const std::string& rule,
                         std::vector<std::string> related = {}) {
  throw ParameterError(name, value, rule, std::move(related));
}

// The data term's λ_max, of (1/n) Σ A_iᵀA_i/m_i.
double data_lambda_max(const std::vector<DenseMatrix>& grams) {
  DenseMatrix mean = DenseMatrix::Zero(grams.front().rows(), grams.front().cols());
  for (const auto& gram : grams) mean += gram;
  mean /= static_cast<double>(grams.size());
  return Eigen::SelfAdjointEigenSolver<DenseMatrix>(mean, Eigen::EigenvaluesOnly)
      .eigenvalues()
      .maxCoeff();
}

}  // namespace

std::vector<std::string> target_names() { return {"label", "classes", "planted"}; }

std::vector<double> parse_class_set(const std::string& text) {
  std::vector<double> classes;
  auto malformed = [&] {
    refuse("positive_classes", text,
           "is not a set of class labels such as '0-4' or '0,2,4' (integers of magnitude at most "
           "2^53 and ranges a-b of at most 1000 labels, separated by commas)",
           {"target"});
  };
  // One integer at `at` (skipping spaces); advances `at` past it.
  auto integer = [&](std::size_t& at) {
    while (at < text.size() && text[at] == ' ') ++at;
    char* end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text.c_str() + at, &end, 10);
    if (end == text.c_str() + at || errno != 0 || value > kMaxLabel || value < -kMaxLabel)
      malformed();
    at = static_cast<std::size_t>(end - text.c_str());
    while (at < text.size() && text[at] == ' ') ++at;
    return value;
  };
  for (std::size_t at = 0; at <= text.size(); ++at) {
    const long long low = integer(at);
    long long high = low;
    if (at < text.size() && text[at] == '-') high = integer(++at);
    if (high < low || high - low >= kMaxClasses || (at < text.size() && text[at] != ','))
      malformed();
    for (long long label = low; label <= high; ++label)
      classes.push_back(static_cast<double>(label));
  }
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  return classes;
}

DatasetRequest dataset_request(const ProblemSpec& spec) {
  DatasetRequest request;
  request.name = spec.dataset;
  if (from_file(spec)) {
    request.path = spec.dataset_path;
    request.format = spec.dataset_format;
    request.labels = spec.dataset_labels;
    request.label_column = spec.label_column;
    request.header = spec.header;
  }
  request.scale = spec.feature_scale;
  request.pooling = spec.pooling;
  request.random_relu = spec.random_relu;
  request.bias = spec.bias_feature;
  return request;
}

SplitSpec split_spec(const ProblemSpec& spec) {
  SplitSpec split;
  split.kind = parse_split_kind(spec.split);
  if (split.kind == SplitKind::kDirichlet) {
    split.concentration = spec.concentration;
    split.min_samples = spec.min_samples;
  }
  if (split.kind == SplitKind::kClasses) split.classes_per_worker = spec.classes_per_worker;
  return split;
}

void check_split_fits(const ProblemSpec& spec, const Dataset& data, const LabelClasses& classes) {
  const std::string sizes = fmt::format(" (the dataset has {} samples in {} classes)",
                                        data.num_samples(), classes.values.size());
  if (!classes.by_label && spec.split != "iid")
    refuse("split", spec.split,
           fmt::format("needs class labels, but dataset {} holds real-valued targets ({}): use "
                       "split: iid",
                       data.source, real_valued_reason(data, classes)));
  try {
    split_spec(spec).validate(spec.num_workers, data.num_samples(),
                              static_cast<int>(classes.values.size()));
  } catch (const ParameterError& error) {
    refuse(error.name, error.value, error.rule + sizes, {"split"});
  }
}

void check_least_squares_data(const ProblemSpec& spec, const Dataset& data,
                              const LabelClasses& classes) {
  check_split_fits(spec, data, classes);
  if (spec.target != "classes") return;
  const std::vector<double> positive = parse_class_set(spec.positive_classes);
  std::size_t matched = 0;
  for (const double value : classes.values)
    matched += std::binary_search(positive.begin(), positive.end(), value) ? 1 : 0;
  if (!classes.by_label || matched == 0 || matched == classes.values.size())
    refuse("positive_classes", spec.positive_classes,
           "must hold some of the dataset's labels and not all of them (else every target is "
           "the same)",
           {"target"});
}

std::vector<std::vector<std::int64_t>> worker_samples(const ProblemSpec& spec,
                                                      const LabelClasses& classes) {
  return split_samples(classes.class_of_sample, static_cast<int>(classes.values.size()),
                       spec.num_workers, split_spec(spec), spec.seed);
}

Vector least_squares_targets(const ProblemSpec& spec, const Dataset& data) {
  const auto samples = data.num_samples();
  Vector targets(samples);
  if (spec.target == "planted") {
    RandomStream stream(spec.seed, StreamPurpose::kProblem, kPlantedPart);
    Vector x_true(data.num_features());
    const double deviation = 1.0 / std::sqrt(static_cast<double>(data.num_features()));
    for (Eigen::Index j = 0; j < x_true.size(); ++j) x_true[j] = deviation * stream.normal();
    for (std::int64_t i = 0; i < samples; ++i)
      targets[i] = data.features.row(i).cast<double>().dot(x_true);
  } else if (spec.target == "classes") {
    const std::vector<double> positive = parse_class_set(spec.positive_classes);
    for (std::int64_t i = 0; i < samples; ++i)
      targets[i] =
          std::binary_search(positive.begin(), positive.end(), data.labels[i]) ? 1.0 : -1.0;
  } else {
    for (std::int64_t i = 0; i < samples; ++i) targets[i] = data.labels[i];
  }
  return targets;
}

void accumulate_gram(const FeatureMatrix& features, const Vector& targets,
                     const std::vector<std::int64_t>& rows, DenseMatrix& gram, Vector& moment) {
  const Eigen::Index dim = features.cols();
  gram = DenseMatrix::Zero(dim, dim);
  moment = Vector::Zero(dim);
  DenseMatrix chunk(dim, kGramChunk);  // samples as columns: rankUpdate's u in G += u uᵀ
  Vector chunk_targets(kGramChunk);
  for (std::size_t first = 0; first < rows.size(); first += kGramChunk) {
    const auto count =
        static_cast<Eigen::Index>(std::min<std::size_t>(kGramChunk, rows.size() - first));
    for (Eigen::Index r = 0; r < count; ++r) {
      const std::int64_t sample = rows[first + static_cast<std::size_t>(r)];
      chunk.col(r) = features.row(sample).cast<double>().transpose();
      chunk_targets[r] = targets[sample];
    }
    gram.selfadjointView<Eigen::Lower>().rankUpdate(chunk.leftCols(count));
    moment.noalias() += chunk.leftCols(count) * chunk_targets.head(count);
  }
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
}

Quadratic make_least_squares(const ProblemSpec& spec, const Dataset& data,
                             const ParallelFor& parallel_for) {
  const auto samples_of_worker = worker_samples(spec, dataset_classes(data));
  const Vector targets = least_squares_targets(spec, data);
  const int workers = spec.num_workers;
  std::vector<DenseMatrix> matrices(workers);
  std::vector<Vector> vectors(workers);
  parallel_for(workers, [&](int worker) {
    const auto& rows = samples_of_worker[worker];
    accumulate_gram(data.features, targets, rows, matrices[worker], vectors[worker]);
    const double inverse_m = 1.0 / static_cast<double>(rows.size());
    matrices[worker] *= inverse_m;
    vectors[worker] *= inverse_m;
  });
  const double lambda = spec.relative_regularization > 0.0
                            ? spec.relative_regularization * data_lambda_max(matrices)
                            : spec.regularization;
  if (!std::isfinite(lambda))
    throw std::invalid_argument(
        fmt::format("λ = {} is not finite (relative_regularization {} × "
                    "λ_max of the data term)",
                    lambda, spec.relative_regularization));
  for (auto& matrix : matrices) matrix.diagonal().array() += lambda;
  try {
    Quadratic problem = Quadratic::dense(std::move(matrices), std::move(vectors),
                                         Vector::Zero(data.num_features()));
    problem.set_regularization(lambda);
    return problem;
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(fmt::format(
        "{} (with λ = {}: a feature that is zero on all of a worker's samples, or features that "
        "are linearly dependent, need regularization > 0)",
        error.what(), lambda));
  }
}

namespace {

// Keys of `dataset:` that only mean something for some formats, given where they mean nothing.
void check_dataset_keys(const ProblemSpec& spec) {
  const bool csv = spec.dataset_format == "csv";
  const bool labels_file = spec.dataset_format == "idx" || spec.dataset_format == "npy";
  const std::string named = "is for a file given by dataset.path, not a named dataset";
  if (!from_file(spec) && !spec.dataset_format.empty())
    refuse("dataset.format", spec.dataset_format, named, {"dataset.name"});
  if (!spec.dataset_labels.empty() && !(from_file(spec) && labels_file))
    refuse("dataset.labels", spec.dataset_labels,
           "is for the idx and npy formats only (the others hold their labels)",
           {"dataset.format"});
  if ((spec.label_column != -1 || spec.header) && !(from_file(spec) && csv))
    refuse(spec.header ? "dataset.header" : "dataset.label_column",
           spec.header ? "true" : std::to_string(spec.label_column), "is for the csv format only",
           {"dataset.format"});
  if (spec.feature_scale.empty())
    refuse("preprocess.scale", "", "is empty; one of none, unit, standardize, standardize_all");
}

}  // namespace

void check_dataset_source(const ProblemSpec& spec) {
  if (spec.dataset.empty() == spec.dataset_path.empty())
    refuse("dataset.name", spec.dataset,
           "give exactly one of dataset: NAME (fashion_mnist, fashion_mnist_test, heart_scale) or "
           "dataset: {path: FILE, format: ...}",
           {"dataset.path", "generator"});
  if (from_file(spec) && spec.dataset_format.empty())
    refuse("dataset.format", "", "is needed with dataset.path: one of idx, libsvm, csv, npy",
           {"dataset.path"});
  if (from_file(spec) && (spec.dataset_format == "idx" || spec.dataset_format == "npy") &&
      spec.dataset_labels.empty())
    refuse("dataset.labels", "", "is needed for the idx and npy formats: the labels file",
           {"dataset.format"});
  check_dataset_keys(spec);
  if (spec.split.empty()) refuse("split", "", "is empty; one of iid, dirichlet, classes, sorted");
}

void check_least_squares(const ProblemSpec& spec) {
  check_dataset_source(spec);
  if (spec.target.empty()) refuse("target", "", "is empty; one of label, classes, planted");
  if (spec.target == "classes") parse_class_set(spec.positive_classes);
  if (spec.regularization > 0.0 && spec.relative_regularization > 0.0)
    refuse("relative_regularization", format_value(spec.relative_regularization),
           "cannot be combined with regularization (give λ one way)", {"regularization"});
}

bool split_reads(const ProblemSpec& spec, std::string_view parameter) {
  if (parameter == "concentration" || parameter == "min_samples") return spec.split == "dirichlet";
  if (parameter == "classes_per_worker") return spec.split == "classes";
  return true;
}

bool least_squares_reads(const ProblemSpec& spec, std::string_view parameter) {
  // Every dataset key is read (a key given where it means nothing is an error, not dropped).
  if (!split_reads(spec, parameter)) return false;
  if (parameter == "positive_classes") return spec.target == "classes";
  return true;
}

// n dense L_i, L̄ and its factorisation, the targets, and per thread a chunk and one
// worker's Gram being formed.
double least_squares_problem_bytes(const ProblemSpec& spec) {
  const double d = spec.dim;
  const double n = spec.num_workers;
  return (n + 3) * d * d * 8 + n * d * 8 + static_cast<double>(spec.num_samples) * 16 +
         kGramChunk * d * 8;
}

}  // namespace istlab
