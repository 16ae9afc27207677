#include "istlab/problem/generators.hpp"

#include <fmt/core.h>

#include <Eigen/QR>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "istlab/problem/least_squares.hpp"
#include "istlab/problem/network_problem.hpp"
#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

// Sub-streams of the problem stream, so adding a draw to one part never shifts another.
enum ProblemPart : std::uint64_t {
  kWorkerScalars = 0,
  kSharedMatrix = 1,
  kWorkerMatrix = 2,
  kSharedVector = 3,
  kWorkerVector = 4,
  kStartPoint = 5,
};

RandomStream part_stream(const ProblemSpec& spec, ProblemPart part, int worker = 0) {
  return RandomStream(spec.seed, StreamPurpose::kProblem, part, static_cast<std::uint64_t>(worker));
}

// Szlendak, Tyurin, Richtárik (ICLR 2022): L_i = (ν_s/4)·tridiag(−1, 2, −1),
// b_i = (ν_s/4)(−1 + ν_b)e_1, then a common shift so that λ_min(L̄) = mu.
Quadratic make_tridiagonal(const ProblemSpec& spec, const ProblemInputs& /*inputs*/) {
  const int dim = spec.dim;
  const int workers = spec.num_workers;
  std::vector<double> nu_s(workers);
  std::vector<double> nu_b(workers);
  double mean_nu_s = 0.0;
  for (int worker = 0; worker < workers; ++worker) {
    RandomStream stream = part_stream(spec, kWorkerScalars, worker);
    nu_s[worker] = 1.0 + spec.heterogeneity * stream.normal();
    nu_b[worker] = spec.heterogeneity * stream.normal();
    mean_nu_s += nu_s[worker] / workers;
  }
  // λ(T) = 2 − 2cos(kπ/(d+1)); the smallest eigenvalue of (ν̄/4)T depends on ν̄'s sign.
  const double angle = std::numbers::pi / (dim + 1);
  const double t_min = 2.0 - 2.0 * std::cos(angle);
  const double t_max = 2.0 + 2.0 * std::cos(angle);
  const double mean_lambda_min = mean_nu_s >= 0.0 ? mean_nu_s / 4 * t_min : mean_nu_s / 4 * t_max;
  const double shift = spec.mu - mean_lambda_min;

  // Every worker is a multiple of T plus the common shift: store T once (Quadratic's
  // scaled form), so memory is O(d + n), not O(n·d).
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(3 * static_cast<std::size_t>(dim));
  for (int j = 0; j < dim; ++j) {
    entries.emplace_back(j, j, 2.0);
    if (j + 1 < dim) {
      entries.emplace_back(j, j + 1, -1.0);
      entries.emplace_back(j + 1, j, -1.0);
    }
  }
  SparseMatrix tridiagonal(dim, dim);
  tridiagonal.setFromTriplets(entries.begin(), entries.end());
  Vector matrix_scales(workers);
  Vector vector_scales(workers);
  for (int worker = 0; worker < workers; ++worker) {
    matrix_scales[worker] = nu_s[worker] / 4.0;
    vector_scales[worker] =
        spec.interpolation ? 0.0 : matrix_scales[worker] * (-1.0 + nu_b[worker]);
  }
  Vector first_unit = Vector::Zero(dim);
  first_unit[0] = 1.0;
  Vector start = first_unit * std::sqrt(static_cast<double>(dim));
  return Quadratic::scaled_sparse(std::move(tridiagonal), matrix_scales, shift,
                                  std::move(first_unit), vector_scales, std::move(start));
}

Vector gaussian_vector(RandomStream& stream, int dim, double std_dev) {
  Vector vector(dim);
  for (int j = 0; j < dim; ++j) vector[j] = std_dev * stream.normal();
  return vector;
}

// Q Λ Qᵀ with Q from the QR of a Gaussian matrix and Λ log-uniform in [1, kappa].
DenseMatrix random_spd(RandomStream& stream, int dim, double kappa) {
  DenseMatrix gaussian(dim, dim);
  for (int col = 0; col < dim; ++col)
    for (int row = 0; row < dim; ++row) gaussian(row, col) = stream.normal();
  const DenseMatrix orthogonal = Eigen::HouseholderQR<DenseMatrix>(gaussian).householderQ();
  Vector eigenvalues(dim);
  for (int j = 0; j < dim; ++j) eigenvalues[j] = std::pow(kappa, stream.uniform());
  DenseMatrix spd = orthogonal * eigenvalues.asDiagonal() * orthogonal.transpose();
  return 0.5 * (spd + spd.transpose());  // exact symmetry despite rounding
}

// L_i = (1−h)·S + h·P_i, b_i = (1−h)·c + h·ξ_i.
Quadratic make_dense(const ProblemSpec& spec, const ProblemInputs& inputs) {
  const int dim = spec.dim;
  const double h = spec.heterogeneity;
  const double vector_std = 1.0 / std::sqrt(static_cast<double>(dim));
  RandomStream shared_matrix_stream = part_stream(spec, kSharedMatrix);
  const DenseMatrix shared = random_spd(shared_matrix_stream, dim, spec.kappa);
  RandomStream shared_vector_stream = part_stream(spec, kSharedVector);
  const Vector shared_vector = gaussian_vector(shared_vector_stream, dim, vector_std);

  std::vector<DenseMatrix> matrices(spec.num_workers);
  std::vector<Vector> vectors(spec.num_workers);
  inputs.parallel_for(spec.num_workers, [&](int worker) {
    if (h == 0.0) {
      matrices[worker] = shared;
    } else {
      RandomStream stream = part_stream(spec, kWorkerMatrix, worker);
      matrices[worker] = (1.0 - h) * shared + h * random_spd(stream, dim, spec.kappa);
    }
    if (spec.interpolation) {
      vectors[worker] = Vector::Zero(dim);
    } else {
      RandomStream stream = part_stream(spec, kWorkerVector, worker);
      vectors[worker] = (1.0 - h) * shared_vector + h * gaussian_vector(stream, dim, vector_std);
    }
  });
  RandomStream start_stream = part_stream(spec, kStartPoint);
  Vector start = gaussian_vector(start_stream, dim, vector_std);
  return Quadratic::dense(std::move(matrices), std::move(vectors), std::move(start));
}

// The paper's 2×2 example: L = [[1, 5], [5, 100]] on every worker, b = 0. The start point
// is the unit eigenvector of W̄'s negative eigenvalue for Perm-1 (where E[B̄] = 2·Diag(L)),
// so f grows along IST's mean step from the first round.
Quadratic make_counterexample(const ProblemSpec& spec, const ProblemInputs& /*inputs*/) {
  DenseMatrix matrix(2, 2);
  matrix << 1.0, 5.0, 5.0, 100.0;
  const DenseMatrix expected_b = 2.0 * DenseMatrix(matrix.diagonal().asDiagonal());
  const DenseMatrix w_bar = 0.5 * (matrix * expected_b + expected_b * matrix);
  Eigen::SelfAdjointEigenSolver<DenseMatrix> solver(w_bar);
  Vector start = solver.eigenvectors().col(0);
  if (start[0] < 0) start = -start;
  std::vector<DenseMatrix> matrices(spec.num_workers, matrix);
  std::vector<Vector> vectors(spec.num_workers, Vector::Zero(2));
  return Quadratic::dense(std::move(matrices), std::move(vectors), std::move(start));
}

// docs/theory.md §1's checks that need more than one parameter.

void check_dense(const ProblemSpec& spec) {
  if (spec.heterogeneity > 1.0)
    throw ParameterError("heterogeneity", format_value(spec.heterogeneity),
                         "must be in [0, 1] for the dense generator", {"generator"});
}

void check_counterexample(const ProblemSpec& spec) {
  if (spec.dim != 2)
    throw ParameterError("dim", format_value(std::int64_t{spec.dim}),
                         "must be 2 for the counterexample", {"generator"});
}

// Bytes held at the peak: matrices (CSR: value and column index per entry, row pointers),
// per-worker vectors and the factorisations and eigensolvers of theory/.
double tridiagonal_problem_bytes(const ProblemSpec& spec) {
  const double d = spec.dim;
  const double n = spec.num_workers;
  // One shared T and L̄, O(n) scalars, and the vectors e_1, x*, x⁰, b̄, Diag(T).
  return 2 * (3 * d * 12 + (d + 1) * 4) + 3 * n * 8 + 5 * d * 8;
}

double tridiagonal_theory_bytes(const ProblemSpec& spec) {
  const double d = spec.dim;
  return 2 * 3 * d * 8 + 10 * 3 * d * 12;  // one worker's moments; E[B̄], W̄ and its factorisation
}

double dense_problem_bytes(const ProblemSpec& spec) {
  const double d = spec.dim;
  const double n = spec.num_workers;
  return (n + 1) * d * d * 8 + 3 * d * d * 8 + n * d * 8;  // L_i, L̄, QR workspace; b_i
}

double dense_theory_bytes(const ProblemSpec& spec) {
  const double d = spec.dim;
  return 2 * 3 * d * 8 + 5 * d * d * 8;  // one worker's moments; E[B̄], L̄E[B̄], W̄, eigensolver
}

NetworkProblem make_network_from_data(const ProblemSpec& spec, const ProblemInputs& inputs) {
  if (inputs.dataset) return make_network_problem(spec, inputs.dataset, inputs.test_dataset);
  return make_network_problem(spec);
}

Quadratic make_from_data(const ProblemSpec& spec, const ProblemInputs& inputs) {
  if (inputs.dataset) return make_least_squares(spec, *inputs.dataset, inputs.parallel_for);
  const DatasetRequest request = dataset_request(spec);
  return make_least_squares(spec, preprocess(read_raw_dataset(request), request),
                            inputs.parallel_for);
}

// The parameters of every family built from a dataset (which file, its preprocessing, how its
// samples are split), in the order the cache keys spell them, then the family's own.
using ParameterLabels = std::vector<std::pair<std::string_view, std::string_view>>;
ParameterLabels with_dataset_parameters(const ParameterLabels& own) {
  ParameterLabels parameters = {{"dataset.name", "data"},
                                {"dataset.path", "path"},
                                {"dataset.format", "format"},
                                {"dataset.labels", "labels"},
                                {"dataset.label_column", "label_column"},
                                {"dataset.header", "header"},
                                {"preprocess.scale", "fscale"},
                                {"preprocess.pooling", "pool"},
                                {"preprocess.random_relu", "relu"},
                                {"preprocess.bias", "bias"},
                                {"split", "split"},
                                {"concentration", "alpha"},
                                {"classes_per_worker", "k"},
                                {"min_samples", "min"}};
  parameters.insert(parameters.end(), own.begin(), own.end());
  return parameters;
}

// One line a family: its file (least_squares.hpp, network_problem.hpp, or the generators
// above) holds its maker and rules.
const std::vector<ProblemFamily>& families() {
  static const std::vector<ProblemFamily> registry = {
      {.name = "tridiagonal",
       .meaning = "sparse quadratics: tridiagonal L_i, heterogeneity s, λ_min(L̄) = mu",
       .parameters = {{"interpolation", "interp"}, {"heterogeneity", "s"}, {"mu", "mu"}},
       .make = make_tridiagonal,
       .storage = Storage::kSparse,
       .problem_bytes = tridiagonal_problem_bytes,
       .theory_bytes = tridiagonal_theory_bytes},
      {.name = "dense",
       .meaning = "dense random quadratics with condition number kappa and heterogeneity h",
       .parameters = {{"interpolation", "interp"}, {"heterogeneity", "h"}, {"kappa", "kappa"}},
       .make = make_dense,
       .check = check_dense,
       .problem_bytes = dense_problem_bytes,
       .theory_bytes = dense_theory_bytes},
      {.name = "counterexample",
       .meaning = "the 2 × 2 quadratics on which IST's W̄ is not positive semidefinite",
       .parameters = {{"interpolation", "interp"}},
       .make = make_counterexample,
       .check = check_counterexample,
       .problem_bytes = dense_problem_bytes,
       .theory_bytes = dense_theory_bytes},
      {.name = "least_squares",
       .meaning = "least squares on a dataset split among the workers (λ-regularized)",
       .parameters = with_dataset_parameters({{"target", "target"},
                                              {"positive_classes", "pos"},
                                              {"regularization", "lambda"},
                                              {"relative_regularization", "rlambda"}}),
       .make = make_from_data,
       .check = check_least_squares,
       .problem_bytes = least_squares_problem_bytes,
       .theory_bytes = dense_theory_bytes,
       .dataset = dataset_request,
       .check_data = check_least_squares_data,
       .reads_given = least_squares_reads},
      {.name = "mlp",
       .meaning = "a ReLU network of one or more hidden layers on a dataset (classification)",
       .parameters = with_dataset_parameters({{"regularization", "l2"},
                                              {"hidden", "hidden"},
                                              {"test_dataset.name", "test"},
                                              {"test_dataset.path", "test_path"},
                                              {"test_dataset.labels", "test_labels"},
                                              {"test_dataset.format", "test_format"},
                                              {"test_dataset.label_column", "test_label_column"},
                                              {"test_dataset.header", "test_header"},
                                              {"eval_samples", "eval"}}),
       .make = make_network_from_data,
       .check = check_mlp,
       .problem_bytes = mlp_problem_bytes,
       .dataset = dataset_request,
       .test_dataset = test_dataset_request,
       .check_data = check_mlp_data,
       .reads_given = split_reads,
       .sketched_dim = mlp_sketched_dim},
  };
  return registry;
}

// Read by every family (the key spells them first).
bool universal(std::string_view parameter) {
  return parameter == "generator" || parameter == "dim" || parameter == "num_workers";
}

}  // namespace

bool ProblemFamily::reads(std::string_view parameter) const {
  if (universal(parameter)) return true;
  for (const auto& [read, label] : parameters)
    if (read == parameter) return true;
  return false;
}

bool ProblemFamily::reads(const ProblemSpec& spec, std::string_view parameter) const {
  return reads(parameter) && (reads_given == nullptr || reads_given(spec, parameter));
}

std::vector<std::string> family_names() {
  std::vector<std::string> names;
  for (const auto& family : families()) names.emplace_back(family.name);
  return names;
}

std::vector<NameAndMeaning> family_meanings() {
  std::vector<NameAndMeaning> list;
  for (const auto& family : families())
    list.push_back({std::string(family.name), std::string(family.meaning)});
  return list;
}

const ProblemFamily& problem_family(std::string_view name) {
  for (const auto& family : families())
    if (family.name == name) return family;
  throw ParameterError("generator", std::string(name),
                       one_of("a generator", family_names)(std::string(name)));
}

// one_of, or "" (the value of a text parameter its family does not read).
Rule empty_or_one_of(std::string_view what, std::function<std::vector<std::string>()> names) {
  const Rule rule = one_of(what, std::move(names));
  return Rule(
      [rule] { return rule.allowed() + " (or empty)"; },
      [rule](const Value& value) { return text_of(value).empty() ? std::string() : rule(value); });
}

namespace {

// mlp's `hidden`: widths joined by '-' (parse_widths).
Rule hidden_widths_rule() {
  const std::string allowed =
      fmt::format("widths joined by '-', e.g. 256 or 512-256: 1 to {} layers of 1 to {} units",
                  kMaxHiddenLayers, kMaxHiddenUnits);
  return Rule(allowed, [allowed](const Value& value) -> std::string {
    if (!parse_widths(text_of(value)).empty()) return "";
    return "must be " + allowed + " (digits only, no leading zeros)";
  });
}

}  // namespace

const std::vector<Parameter<ProblemSpec>>& problem_parameters() {
  static const std::vector<Parameter<ProblemSpec>> table = {
      field("generator", &ProblemSpec::generator, one_of("a generator", family_names), "generator",
            "", true)
          .means("the problem family: a synthetic quadratic (tridiagonal, dense, counterexample; "
                 "docs/theory.md §1.1), least squares on a dataset (least_squares) or a ReLU "
                 "network trained on one (mlp)"),
      field("dim", &ProblemSpec::dim, at_least(1), "dim", "", true)
          .means("d, the coordinates of x (the counterexample: 2); least_squares and mlp take it "
                 "from the dataset's features after preprocessing and refuse it here"),
      field("num_workers", &ProblemSpec::num_workers, at_least(1), "num_workers", "", true)
          .means("n, the workers the problem is split among"),
      field("heterogeneity", &ProblemSpec::heterogeneity, at_least(0), "heterogeneity", "", true)
          .means("how much the workers' f_i differ: tridiagonal s (worker i's ν_s = 1 + s·N(0, 1), "
                 "ν_b = s·N(0, 1)); dense h ∈ [0, 1] (L_i = (1 − h)·S + h·P_i, b_i likewise)"),
      field("interpolation", &ProblemSpec::interpolation, any_value(), "interpolation", "", true)
          .means("true sets every b_i = 0, so x* = 0 minimises every f_i"),
      field("kappa", &ProblemSpec::kappa, at_least(1), "kappa", "", true)
          .means("dense: the random matrices' eigenvalues are log-uniform in [1, kappa]"),
      field("mu", &ProblemSpec::mu, greater_than(0), "mu", "", true)
          .means("tridiagonal: λ_min(L̄), set by one shift common to every L_i"),
      field("dataset.name", &ProblemSpec::dataset, empty_or_one_of("a dataset", dataset_names),
            "dataset", "", true)
          .means("a named dataset (fashion_mnist: 60,000 28×28 images, labels 0–9; "
                 "fashion_mnist_test: its 10,000 test images; heart_scale: 270 × 13, labels ±1); "
                 "give it or dataset.path"),
      field("dataset.path", &ProblemSpec::dataset_path, any_value(), "dataset_path", "", true)
          .means("a data file read instead of a named dataset (relative to the config file's "
                 "folder)"),
      field("dataset.format", &ProblemSpec::dataset_format,
            empty_or_one_of("a format", dataset_formats), "", "", true)
          .means("dataset.path's format: idx (gzip or raw), libsvm, csv or npy"),
      field("dataset.labels", &ProblemSpec::dataset_labels, any_value(), "", "", true)
          .means("the labels file of an idx or npy dataset.path"),
      field("dataset.label_column", &ProblemSpec::label_column, any_value(), "", "", true)
          .means("csv: the label's field, counted from 0 (negative: from the end)"),
      field("dataset.header", &ProblemSpec::header, any_value(), "", "", true)
          .means("csv: true skips the file's first line"),
      field("preprocess.scale", &ProblemSpec::feature_scale,
            empty_or_one_of("a scaling", feature_scale_names), "feature_scale", "", true)
          .means("none; unit: all values together onto [0, 1], (a − min)/(max − min) over the "
                 "whole matrix after pooling; standardize: each feature to mean 0, deviation 1; "
                 "standardize_all: all values together to mean 0, deviation 1 (one mean, one "
                 "deviation); the older spellings standardise and standardise_all are accepted")
          .also_spelled("standardise", "standardize")
          .also_spelled("standardise_all", "standardize_all"),
      field("preprocess.pooling", &ProblemSpec::pooling, at_least(1), "pooling", "", true)
          .means("p: average p×p pooling of square images (side divisible by p); 1 keeps them"),
      field("preprocess.random_relu", &ProblemSpec::random_relu, between(0, kMaxRandomFeatures),
            "random_relu", "", true)
          .means("m > 0 replaces the features a by relu(R a), R (m × d) with N(0, 1/d) entries "
                 "from one fixed stream (a frozen random layer); 0: none"),
      field("preprocess.bias", &ProblemSpec::bias_feature, any_value(), "bias_feature", "", true)
          .means("true appends a constant feature 1 (after scaling and random features)"),
      field("split", &ProblemSpec::split, empty_or_one_of("a split", split_kind_names), "split", "",
            true)
          .means("how the samples are split among the workers: iid (shuffled, sizes differ by at "
                 "most 1), dirichlet (per class, proportions from Dir(α·1_n)), classes "
                 "(classes_per_worker classes each) or sorted (contiguous by label)"),
      field("concentration", &ProblemSpec::concentration, at_least(1e-300), "concentration", "",
            true)
          .means("split dirichlet: α; large is near iid, small gives few classes per worker"),
      field("classes_per_worker", &ProblemSpec::classes_per_worker, at_least(1),
            "classes_per_worker", "", true)
          .means("split classes: k; worker w holds class w mod C and k − 1 more drawn at random"),
      field("min_samples", &ProblemSpec::min_samples, at_least(1), "min_samples", "", true)
          .means("split dirichlet: the fewest samples a worker holds (the split is redrawn until "
                 "every worker has them)"),
      field("target", &ProblemSpec::target, empty_or_one_of("a target", target_names), "target", "",
            true)
          .means("least_squares' y: label (the label as a number), classes (+1 for "
                 "positive_classes, −1 otherwise) or planted (y = A x_true, x_true ~ N(0, I/d) "
                 "from the problem seed)"),
      field("positive_classes", &ProblemSpec::positive_classes, any_value(), "positive_classes", "",
            true)
          .means("target classes: the labels that get +1, e.g. 0-4 or 0,2,4 (some of the "
                 "dataset's labels, not all)"),
      field("regularization", &ProblemSpec::regularization, at_least(0), "regularization", "", true)
          .means("least_squares: λ in f_i = (1/2m_i)‖A_i x − y_i‖² + (λ/2)‖x‖²; mlp: the L2 "
                 "weight l2, adding (l2/2)(‖W1‖² + ‖W2‖²)"),
      field("relative_regularization", &ProblemSpec::relative_regularization, at_least(0),
            "relative_regularization", "", true)
          .means("least_squares: λ as a multiple of λ_max((1/n)Σ A_iᵀA_i/m_i); not with "
                 "regularization"),
      field("hidden", &ProblemSpec::hidden, hidden_widths_rule(), "hidden", "", true)
          .means("mlp: the hidden ReLU layers' widths from the input side, joined by '-': 256 is "
                 "one layer, 512-256 two (a sketch keeps units of each; a list sweeps "
                 "architectures)"),
      field("test_dataset.name", &ProblemSpec::test_dataset,
            empty_or_one_of("a dataset", dataset_names), "test_dataset", "", true)
          .means("mlp: a named held-out set (e.g. fashion_mnist_test) for test_loss and "
                 "test_accuracy; empty: none"),
      field("test_dataset.path", &ProblemSpec::test_dataset_path, any_value(), "test_dataset_path",
            "", true)
          .means("mlp: a held-out data file, in the training file's format"),
      field("test_dataset.labels", &ProblemSpec::test_dataset_labels, any_value(), "", "", true)
          .means("mlp: the labels file of an idx or npy test_dataset.path"),
      field("test_dataset.format", &ProblemSpec::test_dataset_format,
            empty_or_one_of("a format", dataset_formats), "", "", true)
          .means("mlp: test_dataset.path's format (idx, libsvm, csv or npy)")
          .default_shown("the training file's"),
      field("test_dataset.label_column", &ProblemSpec::test_label_column, any_value(), "", "", true)
          .means("mlp: a csv test_dataset.path's label field, counted from 0 (negative: from "
                 "the end)")
          .default_shown("the training file's"),
      field("test_dataset.header", &ProblemSpec::test_header,
            empty_or_one_of("true or false",
                            [] {
                              return std::vector<std::string>{"true", "false"};
                            }),
            "", "", true)
          .means("mlp: true: a csv test_dataset.path's first line is a header")
          .default_shown("the training file's"),
      field("eval_samples", &ProblemSpec::eval_samples, at_least(0, " (0: every sample)"),
            "eval_samples", "", true)
          .means("mlp: about m training samples that train_loss and grad_norm2 are measured "
                 "on, shared in proportion to the workers' sizes: worker i every ⌊N_i/m_i⌋-th of "
                 "its N_i, m_i = ⌈m·N_i/N⌉ (no randomness)"),
  };
  return table;
}

void ProblemSpec::validate() const {
  const ProblemFamily& family = problem_family(generator);
  for (const auto& parameter : problem_parameters())
    if (family.reads(*this, parameter.name)) parameter.check(*this);
  family.check(*this);
}

std::string ProblemSpec::key() const {
  // Only the fields this generator reads, so e.g. kappa does not split tridiagonal problems.
  const ProblemFamily& family = problem_family(generator);
  std::string key = fmt::format("{}|dim={}|n={}|seed={}", generator, dim, num_workers, seed);
  for (const auto& [name, label] : family.parameters)
    key += fmt::format("|{}={}", label,
                       format_value(find_parameter(problem_parameters(), name)->get(*this)));
  if (!data_fingerprint.empty()) key += "|fingerprint=" + data_fingerprint;
  return key;
}

void ProblemSpec::reset_unread() {
  const ProblemFamily& family = problem_family(generator);
  // Decided on a copy: whether a parameter is read may depend on another one being reset.
  const ProblemSpec given = *this;
  istlab::reset_unread(problem_parameters(), *this,
                       [&](std::string_view name) { return family.reads(given, name); });
  // An unread text is empty (an empty CSV field), not its default.
  for (const auto& parameter : problem_parameters())
    if (parameter.type == ValueType::kText && !family.reads(given, parameter.name))
      parameter.set(*this, std::string());
}

void check_nothing(const ProblemSpec&) {}
double no_theory_bytes(const ProblemSpec&) { return 0.0; }

void serial_for(int count, const std::function<void(int)>& body) {
  for (int i = 0; i < count; ++i) body(i);
}

Quadratic make_problem(const ProblemSpec& spec, const ParallelFor& parallel_for,
                       const Dataset* dataset) {
  spec.validate();
  const ProblemFamily& family = problem_family(spec.generator);
  const auto* make = std::get_if<MakeQuadratic>(&family.make);
  if (make == nullptr)
    throw std::invalid_argument(fmt::format(
        "generator '{}' trains a network; it builds no quadratic (make_network_problem)",
        family.name));
  // The caller keeps the dataset alive: a shared pointer that owns nothing.
  return (*make)(
      spec, {parallel_for,
             std::shared_ptr<const Dataset>(std::shared_ptr<const Dataset>(), dataset), nullptr});
}

}  // namespace istlab
