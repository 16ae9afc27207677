#include "istlab/problem/network_problem.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "istlab/problem/least_squares.hpp"

namespace istlab {
namespace {

[[noreturn]] void refuse(const std::string& name, const std::string& value, const std::string& rule,
                         std::vector<std::string> related = {}) {
  throw ParameterError(name, value, rule, std::move(related));
}

bool has_test_set(const ProblemSpec& spec) {
  return !spec.test_dataset.empty() || !spec.test_dataset_path.empty();
}

}  // namespace

std::vector<std::vector<std::int64_t>> eval_subsamples(
    const std::vector<std::vector<std::int64_t>>& samples_of_worker, std::int64_t wanted) {
  std::int64_t total = 0;
  for (const auto& samples : samples_of_worker) total += static_cast<std::int64_t>(samples.size());
  if (wanted <= 0 || wanted >= total) return samples_of_worker;
  std::vector<std::vector<std::int64_t>> chosen(samples_of_worker.size());
  for (std::size_t i = 0; i < samples_of_worker.size(); ++i) {
    const auto& samples = samples_of_worker[i];
    const auto held = static_cast<std::int64_t>(samples.size());
    const std::int64_t kept =
        std::clamp<std::int64_t>((wanted * held + total - 1) / total, 1, held);
    const std::int64_t stride = held / kept;
    chosen[i].reserve(static_cast<std::size_t>(kept));
    for (std::int64_t t = 0; t < kept; ++t)
      chosen[i].push_back(samples[static_cast<std::size_t>(t * stride)]);
  }
  return chosen;
}

DatasetRequest test_dataset_request(const ProblemSpec& spec) {
  const DatasetRequest train = dataset_request(spec);
  DatasetRequest request = train;
  request.name = spec.test_dataset;
  request.path = spec.test_dataset_path;
  request.labels = spec.test_dataset_labels;
  if (!request.name.empty()) {  // a named set has its own format
    request.format.clear();
    request.labels.clear();
    request.label_column = -1;
    request.header = false;
  } else {  // a file: read as the training file is, unless its own keys say otherwise
    if (!spec.test_dataset_format.empty()) request.format = spec.test_dataset_format;
    if (spec.test_label_column != ProblemSpec::kSameAsTraining)
      request.label_column = spec.test_label_column;
    if (!spec.test_header.empty()) request.header = spec.test_header == "true";
  }
  if (has_test_set(spec)) request.scaled_like = std::make_shared<const DatasetRequest>(train);
  return request;
}

void check_test_set(const Dataset& train, const Dataset& test) {
  if (test.num_features() != train.num_features())
    throw DataError(test.source, "",
                    fmt::format("a test set with the training set's {} features (it has {})",
                                train.num_features(), test.num_features()));
  std::vector<double> known(train.labels.begin(), train.labels.end());
  std::sort(known.begin(), known.end());
  for (std::size_t i = 0; i < test.labels.size(); ++i)
    if (!std::binary_search(known.begin(), known.end(), test.labels[i]))
      throw DataError(test.source, fmt::format("sample {}", i),
                      fmt::format("a label the training set has (it has {}, which no training "
                                  "sample has)",
                                  test.labels[i]));
}

NetworkProblem make_network_problem(const ProblemSpec& spec, std::shared_ptr<const Dataset> train,
                                    std::shared_ptr<const Dataset> test) {
  spec.validate();
  const LabelClasses classes = dataset_classes(*train);
  check_mlp_data(spec, *train, classes);
  NetworkProblem problem;
  problem.data.samples_of_worker = worker_samples(spec, classes);
  problem.data.class_of_sample = classes.class_of_sample;
  problem.data.features = &train->features;
  problem.data.shape = {static_cast<int>(train->num_features()), parse_widths(spec.hidden),
                        static_cast<int>(classes.values.size())};
  problem.data.l2 = spec.regularization;
  problem.label_values = classes.values;
  problem.eval_samples_of_worker =
      eval_subsamples(problem.data.samples_of_worker, spec.eval_samples);
  problem.initial = initial_parameters<float>(problem.data.shape, spec.seed);
  if (test) {
    check_test_set(*train, *test);
    for (std::size_t i = 0; i < test->labels.size(); ++i) {
      const auto at =
          std::lower_bound(classes.values.begin(), classes.values.end(), test->labels[i]);
      problem.test_class_of_sample.push_back(static_cast<int>(at - classes.values.begin()));
      problem.test_samples.push_back(static_cast<std::int64_t>(i));
    }
  }
  problem.train = std::move(train);
  problem.test = std::move(test);
  return problem;
}

NetworkProblem make_network_problem(const ProblemSpec& spec) {
  DatasetCache datasets;
  auto train = datasets.get(dataset_request(spec));
  auto test = has_test_set(spec) ? datasets.get(test_dataset_request(spec)) : nullptr;
  return make_network_problem(spec, std::move(train), std::move(test));
}

void check_mlp(const ProblemSpec& spec) {
  check_dataset_source(spec);
  if (!spec.test_dataset.empty() && !spec.test_dataset_path.empty())
    refuse("test_dataset.path", spec.test_dataset_path,
           "give a test set by name or by path, not both", {"test_dataset.name"});
  const std::string test_format =
      spec.test_dataset_format.empty() ? spec.dataset_format : spec.test_dataset_format;
  const bool labels_file = test_format == "idx" || test_format == "npy";
  const bool own_keys = !spec.test_dataset_format.empty() ||
                        spec.test_label_column != ProblemSpec::kSameAsTraining ||
                        !spec.test_header.empty();
  // (the key and value of a test-file key that is set, for the messages below)
  const auto [own_key, own_value] =
      !spec.test_dataset_format.empty()
          ? std::pair<std::string, std::string>{"test_dataset.format", spec.test_dataset_format}
      : !spec.test_header.empty()
          ? std::pair<std::string, std::string>{"test_dataset.header", spec.test_header}
          : std::pair<std::string, std::string>{"test_dataset.label_column",
                                                std::to_string(spec.test_label_column)};
  if (own_keys && spec.test_dataset_path.empty())
    refuse(own_key, own_value, "is for a test set given by test_dataset.path",
           {"test_dataset.path"});
  if (!spec.test_dataset_path.empty() && test_format.empty())
    refuse("test_dataset.format", "",
           "is needed with test_dataset.path when the training set is a named dataset: one of "
           "idx, libsvm, csv, npy (or name a test set: test_dataset: fashion_mnist_test)",
           {"test_dataset.path", "dataset.name"});
  if ((spec.test_label_column != ProblemSpec::kSameAsTraining || !spec.test_header.empty()) &&
      test_format != "csv")
    refuse(spec.test_header.empty() ? "test_dataset.label_column" : "test_dataset.header",
           spec.test_header.empty() ? std::to_string(spec.test_label_column) : spec.test_header,
           "is for a csv test set", {"test_dataset.format"});
  if (!spec.test_dataset_path.empty() && labels_file && spec.test_dataset_labels.empty())
    refuse("test_dataset.labels", "", "is needed for the idx and npy formats: the labels file",
           {"test_dataset.path"});
  if (!spec.test_dataset_labels.empty() && (spec.test_dataset_path.empty() || !labels_file))
    refuse("test_dataset.labels", spec.test_dataset_labels,
           "is for a test set given by test_dataset.path in the idx or npy format",
           {"test_dataset.path", "dataset.format"});
}

void check_mlp_data(const ProblemSpec& spec, const Dataset& data, const LabelClasses& classes) {
  // (200 distinct labels 0.013, 0.027, ... would otherwise train as 200 classes)
  if (classes.fractional_sample >= 0)
    refuse("generator", spec.generator,
           fmt::format("classifies: it needs integer class labels (or ±1), but in dataset {} {}; "
                       "use least_squares for real-valued targets",
                       data.source, real_valued_reason(data, classes)),
           {"dataset.name"});
  if (!classes.by_label || classes.values.size() < 2)
    refuse("generator", spec.generator,
           fmt::format("classifies: it needs a dataset with 2 to {} distinct labels (this one "
                       "has {})",
                       kMaxClasses,
                       classes.by_label ? std::to_string(classes.values.size())
                                        : fmt::format("more than {}", kMaxClasses)),
           {"dataset.name"});
  check_split_fits(spec, data, classes);
}

MlpShape mlp_shape(const ProblemSpec& spec) {
  constexpr int kUnknownClasses = 10;
  return {spec.dim, parse_widths(spec.hidden),
          spec.num_classes > 0 ? spec.num_classes : kUnknownClasses};
}

// What a built problem holds: per training sample its class and place in a worker's list,
// and while it is built the classes and the split's order once more; the training-loss
// subsample, the test set's classes, the initial parameters and each worker's label counts.
// (The datasets are the sweep's; the rounds' buffers are the runs', network_run_bytes.)
double mlp_problem_bytes(const ProblemSpec& spec) {
  const MlpShape shape = mlp_shape(spec);
  const auto samples = static_cast<double>(spec.num_samples);
  // (each worker's share of the subsample rounds up: at most one more sample a worker)
  const double eval = spec.eval_samples > 0
                          ? std::min<double>(spec.eval_samples + spec.num_workers, samples)
                          : samples;
  const double parameters = shape.parameters();
  constexpr double kLabelCountText = 16;  // "label:count " in problems.csv
  return samples * (2 * sizeof(int) + 3 * sizeof(std::int64_t)) + eval * sizeof(std::int64_t) +
         static_cast<double>(spec.num_test_samples) * (sizeof(int) + sizeof(std::int64_t)) +
         parameters * sizeof(float) +
         static_cast<double>(spec.num_workers) * shape.classes * kLabelCountText;
}

int mlp_sketched_dim(const ProblemSpec& spec) {
  const std::vector<int> widths = parse_widths(spec.hidden);
  return widths.empty() ? 0 : *std::min_element(widths.begin(), widths.end());
}

}  // namespace istlab
