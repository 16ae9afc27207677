#pragma once
// Problem families: the generators of docs/theory.md §1.1, each fully determined by its parameters
// and seed. A family is one make function plus one registry entry that says which
// parameters it reads, its rules across them, its storage, its memory and whether the
// theory of docs/theory.md §4 applies.

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "istlab/data/catalog.hpp"
#include "istlab/param/parameter.hpp"
#include "istlab/problem/quadratic.hpp"

namespace istlab {

struct ProblemSpec {
  std::string generator = "tridiagonal";
  int dim = 100;
  int num_workers = 10;
  // `s` for tridiagonal (≥ 0), `h` for dense (in [0, 1]); ignored by counterexample.
  double heterogeneity = 0.0;
  bool interpolation = false;  // all b_i = 0
  double mu = 1e-6;            // tridiagonal: λ_min(L̄) after the shift
  double kappa = 100.0;        // dense: eigenvalues log-uniform in [1, kappa]
  std::uint64_t seed = 0;

  // least_squares (least_squares.hpp): the dataset, as `dataset: NAME` or
  // `dataset: {path, format, labels, label_column, header}` ...
  std::string dataset{};
  std::string dataset_path{};
  std::string dataset_format{};
  std::string dataset_labels{};
  int label_column = -1;
  bool header = false;
  // ... `preprocess: {scale, pooling, bias}` ...
  std::string feature_scale = "none";
  int pooling = 1;
  int random_relu = 0;  // a frozen random ReLU layer of this width (0: none)
  bool bias_feature = false;
  // ... how its samples are split among the workers (data/split.hpp) ...
  std::string split = "iid";
  double concentration = 1.0;  // dirichlet α
  int classes_per_worker = 1;
  int min_samples = 10;
  // ... the targets and λ.
  std::string target = "label";    // label, classes or planted
  std::string positive_classes{};  // target classes: "0-4" is +1, the rest −1
  double regularization = 0.0;     // least_squares' λ, mlp's L2 weight
  double relative_regularization = 0.0;
  // mlp (network_problem.hpp): the hidden units, a held-out test set (a named dataset, or a
  // file read as the training file is unless its own keys say otherwise), and the
  // training-loss subsample.
  std::string hidden = "64";  // the hidden layers' widths, "512-256" (mlp.hpp's parse_widths)
  std::string test_dataset{};
  std::string test_dataset_path{};
  std::string test_dataset_labels{};
  std::string test_dataset_format{};  // "": the training file's
  int test_label_column = kSameAsTraining;
  std::string test_header{};  // "true", "false", or "": the training file's
  static constexpr int kSameAsTraining = std::numeric_limits<int>::min();
  int eval_samples = 10000;
  // Set from the dataset when the grid is expanded (not parameters): for least_squares,
  // `dim` is the number of features after preprocessing and this the number of samples.
  std::int64_t num_samples = 0;
  int num_classes = 0;                // the training set's classes (0: unknown, or targets)
  std::int64_t num_test_samples = 0;  // the held-out set's samples (0: none)
  std::string data_fingerprint{};     // DatasetCache::fingerprint, part of the key

  // Throws ParameterError for a value its family does not accept.
  void validate() const;
  // Canonical text of every field the generator reads: equal keys, equal problems.
  std::string key() const;
  // Sets the fields the generator does not read to "not applicable" (see reset_unread).
  void reset_unread();
};

// Every `problem:` key but `seed` (which sweeps set from `problem.seed` or `seeds`).
const std::vector<Parameter<ProblemSpec>>& problem_parameters();

// Runs body(i) for i in [0, count), possibly in parallel; problem/ stays free of threads and
// the caller (a sweep) supplies the pool. Each i writes only its own slot.
using ParallelFor = std::function<void(int count, const std::function<void(int)>& body)>;
void serial_for(int count, const std::function<void(int)>& body);

enum class Storage { kDense, kSparse };

// What building a problem may use besides its spec.
struct ProblemInputs {
  ParallelFor parallel_for = serial_for;
  std::shared_ptr<const Dataset> dataset;       // a data family's dataset, preprocessed
  std::shared_ptr<const Dataset> test_dataset;  // and its held-out set, if any
};

struct NetworkProblem;  // network_problem.hpp

// What a family builds: a quadratic (docs/theory.md §1) or a network to train. Each alternative is
// a kind of workload (run/workload.hpp), which says how it runs.
using MakeQuadratic = Quadratic (*)(const ProblemSpec&, const ProblemInputs&);
using MakeNetwork = NetworkProblem (*)(const ProblemSpec&, const ProblemInputs&);

// Builds the problem; per-worker matrices are generated through `parallel_for`, which
// cannot change the result (every worker draws from its own stream). A family built from
// data reads `dataset` when given (a sweep's shared copy), else reads the file itself.
Quadratic make_problem(const ProblemSpec& spec, const ParallelFor& parallel_for = serial_for,
                       const Dataset* dataset = nullptr);

void check_nothing(const ProblemSpec& spec);
double no_theory_bytes(const ProblemSpec& spec);

struct ProblemFamily {
  std::string_view name;
  std::string_view meaning;  // a line for `istlab list`
  // Parameters read besides generator, dim, num_workers and seed, with their labels in
  // the cache key.
  std::vector<std::pair<std::string_view, std::string_view>> parameters;
  std::variant<MakeQuadratic, MakeNetwork> make;
  void (*check)(const ProblemSpec&) = check_nothing;  // rules across parameters (ParameterError)
  Storage storage = Storage::kDense;
  double (*problem_bytes)(const ProblemSpec&);                   // the built problem
  double (*theory_bytes)(const ProblemSpec&) = no_theory_bytes;  // its theory at its peak
  // Families built from a dataset: which one (null for generators), and its held-out set
  // (name and path empty: none).
  DatasetRequest (*dataset)(const ProblemSpec&) = nullptr;
  DatasetRequest (*test_dataset)(const ProblemSpec&) = nullptr;
  // Rules between the spec and its dataset and the dataset's classes (throws ParameterError).
  void (*check_data)(const ProblemSpec&, const Dataset&, const LabelClasses&) = nullptr;
  // Of `parameters`, those the spec's other choices leave unread (null: all are read).
  bool (*reads_given)(const ProblemSpec&, std::string_view) = nullptr;
  // The size of x a sketch keeps coordinates of (a network's hidden units; null: dim).
  int (*sketched_dim)(const ProblemSpec&) = nullptr;

  // docs/theory.md §4's theory describes the family's problems: they are quadratics.
  bool has_theory() const { return std::holds_alternative<MakeQuadratic>(make); }
  int sketch_dim(const ProblemSpec& spec) const {
    return sketched_dim ? sketched_dim(spec) : spec.dim;
  }
  bool reads(std::string_view parameter) const;
  bool reads(const ProblemSpec& spec, std::string_view parameter) const;
};

// The family called `name`; throws ParameterError listing the valid names.
const ProblemFamily& problem_family(std::string_view name);
std::vector<std::string> family_names();
std::vector<NameAndMeaning> family_meanings();

}  // namespace istlab
