#include "istlab/data/catalog.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <new>
#include <optional>
#include <set>

#include "istlab/data/readers.hpp"
#include "istlab/io/memory.hpp"
#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

// The problem stream's sub-stream of the random ReLU layer (generators 0–5, least squares 6,
// the network's layers 7–8).
constexpr std::uint64_t kRandomFeaturesPart = 9;

struct NamedDataset {
  std::string_view name;
  std::string_view format;
  std::string_view features;  // the installed file
  std::string_view labels;
  std::int64_t num_features;  // for LIBSVM files, whose last features may never appear
  std::string_view package;   // the Debian package that installs it
};

constexpr NamedDataset kNamedDatasets[] = {
    {"fashion_mnist", "idx", "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
     "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz", 784, "dataset-fashion-mnist"},
    // The held-out test images, for measuring what a model trained on the 60,000 learned.
    {"fashion_mnist_test", "idx", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
     "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", 784, "dataset-fashion-mnist"},
    {"heart_scale", "libsvm", "/usr/share/doc/liblinear-tools/examples/heart_scale", "", 13,
     "liblinear-tools"},
};

const NamedDataset& named(const std::string& name) {
  for (const auto& dataset : kNamedDatasets)
    if (dataset.name == name) return dataset;
  throw DataError(name, "",
                  "a dataset name: one of fashion_mnist, fashion_mnist_test, heart_scale");
}

Dataset read_file(const std::string& format, const std::string& path, const std::string& labels,
                  std::int64_t num_features, int label_column, bool header,
                  const ShapeCheck& check) {
  if (format == "idx") return read_idx(path, labels, check);
  if (format == "npy") return read_npy(path, labels, check);
  if (format == "libsvm") return read_libsvm(path, num_features, check);
  if (format == "csv") return read_csv(path, label_column, header, check);
  throw DataError(path, "", "a format: one of idx, libsvm, csv, npy (got '" + format + "')");
}

// Averages each p × p block of a square image (row-major, side s): side s/p.
Dataset pooled(const Dataset& raw, int pooling) {
  const auto d = raw.num_features();
  const auto side = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(d))));
  if (side * side != d || side % pooling != 0)
    throw DataError(raw.source, "",
                    fmt::format("square images whose side {} divides for preprocess.pooling, but "
                                "the samples have {} features",
                                pooling, d));
  const std::int64_t out_side = side / pooling;
  Dataset out{raw.source, FeatureMatrix(raw.num_samples(), out_side * out_side), raw.labels};
  const double inverse_area = 1.0 / (pooling * pooling);
  for (std::int64_t i = 0; i < raw.num_samples(); ++i)
    for (std::int64_t r = 0; r < out_side; ++r)
      for (std::int64_t c = 0; c < out_side; ++c) {
        double sum = 0.0;
        for (int dr = 0; dr < pooling; ++dr)
          for (int dc = 0; dc < pooling; ++dc)
            sum += raw.features(i, (r * pooling + dr) * side + c * pooling + dc);
        out.features(i, r * out_side + c) = static_cast<float>(sum * inverse_area);
      }
  return out;
}

// `unit`: all values together onto [0, 1], (a − min)/(max − min), after pooling (raw pixels
// 0..255 become a/255; relative errors and relative steps do not depend on this one factor).
// `standardize`: each feature to mean 0 and standard deviation 1 over the samples.
// `standardize_all`: all values together to mean 0 and deviation 1, one mean and one deviation
// for every feature (the usual image recipe, e.g. Fashion-MNIST's Normalize((0.286,), (0.353,))
// after mapping pixels onto [0, 1]; an affine map of all pixels alike, so it keeps their
// relative sizes as `unit` does, but centres them).
FeatureScaling fit_scaling(const FeatureMatrix& features, const std::string& scale) {
  const auto columns = static_cast<std::size_t>(features.cols());
  FeatureScaling scaling{std::vector<double>(columns, 0.0), std::vector<double>(columns, 0.0)};
  if (features.size() == 0) return scaling;
  if (scale == "unit") {
    const double low = features.minCoeff();
    const double range = static_cast<double>(features.maxCoeff()) - low;
    scaling.shift.assign(columns, low);
    scaling.width.assign(columns, range);
    return scaling;
  }
  if (scale == "standardize_all") {
    // (summed value by value in double: a double copy of the matrix would double the peak)
    const auto values = static_cast<double>(features.size());
    double mean = 0.0;
    for (Eigen::Index k = 0; k < features.size(); ++k) mean += features.data()[k];
    mean /= values;
    double variance = 0.0;
    for (Eigen::Index k = 0; k < features.size(); ++k)
      variance += (features.data()[k] - mean) * (features.data()[k] - mean);
    variance /= values;
    scaling.shift.assign(columns, mean);
    scaling.width.assign(columns, std::sqrt(variance));
    return scaling;
  }
  // Row by row, in storage order (a column at a time would stride through the whole matrix
  // once per feature); each feature's sums still add its samples in order.
  const auto rows = static_cast<double>(features.rows());
  std::vector<double>& mean = scaling.shift;
  for (Eigen::Index i = 0; i < features.rows(); ++i)
    for (std::size_t j = 0; j < columns; ++j) mean[j] += features(i, static_cast<Eigen::Index>(j));
  for (double& sum : mean) sum /= rows;
  std::vector<double>& variance = scaling.width;
  for (Eigen::Index i = 0; i < features.rows(); ++i)
    for (std::size_t j = 0; j < columns; ++j) {
      const double centred = features(i, static_cast<Eigen::Index>(j)) - mean[j];
      variance[j] += centred * centred;
    }
  for (double& sum : variance) sum = std::sqrt(sum / rows);
  return scaling;
}

// In place, row by row in storage order.
void apply_scaling(const FeatureScaling& scaling, FeatureMatrix& features) {
  const auto columns = static_cast<std::size_t>(features.cols());
  for (Eigen::Index i = 0; i < features.rows(); ++i) {
    float* row = features.row(i).data();
    for (std::size_t j = 0; j < columns; ++j)
      row[j] = scaling.width[j] > 0.0
                   ? static_cast<float>((row[j] - scaling.shift[j]) / scaling.width[j])
                   : 0.0f;
  }
}

// relu(A Rᵀ) for R (width × d) with N(0, 1/d) entries from a fixed stream; the product is
// summed over blocks of kInputBlock inputs in order (each block below any GEMM's own split).
FeatureMatrix random_relu_features(const Dataset& data, int width) {
  constexpr Eigen::Index kInputBlock = 128;
  const Eigen::Index inputs = data.num_features();
  if (static_cast<double>(data.num_samples()) * width > 2147483648.0)
    throw DataError(data.source, "",
                    fmt::format("at most 2^31 values: {} samples × {} random features is more",
                                data.num_samples(), width));
  RandomStream stream(0, StreamPurpose::kProblem, kRandomFeaturesPart);
  FeatureMatrix layer(width, inputs);
  const double deviation = 1.0 / std::sqrt(static_cast<double>(inputs));
  for (Eigen::Index k = 0; k < layer.size(); ++k)
    layer.data()[k] = static_cast<float>(deviation * stream.normal());
  FeatureMatrix features = FeatureMatrix::Zero(data.num_samples(), width);
  for (Eigen::Index first = 0; first < inputs; first += kInputBlock) {
    const Eigen::Index count = std::min(kInputBlock, inputs - first);
    features.noalias() +=
        data.features.middleCols(first, count) * layer.middleCols(first, count).transpose();
  }
  features = features.cwiseMax(0.0f);  // in place: a second N × m matrix would double the peak
  return features;
}

bool preprocesses(const DatasetRequest& request) {
  return request.pooling > 1 || request.scale != "none" || request.random_relu > 0 || request.bias;
}

std::string samples_text(std::uint64_t samples) {
  return fmt::format("{} sample{}", samples, samples == 1 ? "" : "s");
}

// Refuses a dataset of `shape` before anything of its size is allocated when reading it
// (`reading`: its matrix, labels and what the reader holds meanwhile) and preprocessing it
// would need more memory than is available.
void require_memory(const DatasetShape& shape, double reading, double preprocessing,
                    const DatasetRequest& request) {
  const double needed = reading + preprocessing;
  const std::uint64_t available = available_memory_bytes();
  if (available == 0 || needed <= static_cast<double>(available)) return;
  std::string parts;
  if (reading > 0) parts = gib(static_cast<std::uint64_t>(reading)) + " to read";
  if (preprocessing > 0)
    parts += (parts.empty() ? "" : ", ") + gib(static_cast<std::uint64_t>(preprocessing)) +
             " to preprocess";
  throw DataError(
      shape.file, "",
      fmt::format("a dataset that fits in memory: its {} × {} features need about {} ({}), but "
                  "{}; use a smaller file{}, or free memory",
                  samples_text(shape.samples), shape.features,
                  gib(static_cast<std::uint64_t>(needed)), parts, available_text(available),
                  request.random_relu > 0 ? " or fewer preprocess.random_relu features" : ""));
}

// The files `request` reads, for messages.
std::string source_of(const DatasetRequest& request) {
  if (!request.name.empty()) {
    const NamedDataset& dataset = named(request.name);
    return std::string(dataset.features) +
           (dataset.labels.empty() ? "" : ", " + std::string(dataset.labels));
  }
  return request.path + (request.labels.empty() ? "" : ", " + request.labels);
}

}  // namespace

double preprocess_bytes(const DatasetRequest& request, double samples, double features,
                        double scaling_samples, bool on_a_copy) {
  if (!preprocesses(request)) return 0.0;
  const double area = static_cast<double>(request.pooling) * request.pooling;
  const double pooled = request.pooling > 1 ? std::floor(features / area) : features;
  // the copy preprocessing works on: the pooled images, or the raw dataset's when it is kept
  double bytes = on_a_copy || request.pooling > 1 ? dataset_bytes(samples, pooled) : 0.0;
  if (request.pooling > 1 && request.scale != "none")
    bytes += scaling_samples * pooled * sizeof(float);  // the pooled set the scaling fits on
  double width = pooled;
  if (request.random_relu > 0) {
    width = request.random_relu;
    bytes += (pooled + samples) * width * sizeof(float);  // the layer R and relu(A Rᵀ)
  }
  if (request.bias) bytes += samples * (width + 1) * sizeof(float);  // the resized copy
  return bytes;
}

std::string DatasetRequest::file_key() const {
  if (!name.empty()) return "name=" + name;
  return fmt::format("path={}|format={}|labels={}|label_column={}|header={}", path, format, labels,
                     label_column, header);
}

std::string DatasetRequest::key() const {
  std::string key = fmt::format("{}|scale={}|pooling={}|relu={}|bias={}", file_key(), scale,
                                pooling, random_relu, bias);
  if (scaled_like && scale != "none") key += "|scaled_like=(" + scaled_like->file_key() + ")";
  return key;
}

std::vector<NameAndMeaning> dataset_meanings() {
  std::vector<NameAndMeaning> list;
  for (const auto& dataset : kNamedDatasets) {
    std::error_code error;
    const bool installed = std::filesystem::exists(dataset.features, error);
    list.push_back(
        {std::string(dataset.name),
         fmt::format("{} features ({}), from Debian's {}{}", dataset.num_features, dataset.format,
                     dataset.package,
                     installed ? "" : " (not installed: scripts/setup.sh installs it)")});
  }
  return list;
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const auto& dataset : kNamedDatasets) names.emplace_back(dataset.name);
  return names;
}

std::vector<std::string> dataset_formats() { return {"idx", "libsvm", "csv", "npy"}; }
std::vector<NameAndMeaning> feature_scale_meanings() {
  return {{"none", "the features as read (after pooling)"},
          {"unit", "all values together onto [0, 1]: (a − min)/(max − min) over the whole matrix"},
          {"standardize", "each feature to mean 0 and standard deviation 1 over the samples"},
          {"standardize_all",
           "all values together to mean 0 and deviation 1: one mean and one deviation for "
           "every feature"}};
}

std::vector<std::string> feature_scale_names() {
  std::vector<std::string> names;
  for (const auto& scale : feature_scale_meanings()) names.push_back(scale.name);
  return names;
}

namespace {

Dataset read_request(const DatasetRequest& request, const ShapeCheck& check) {
  if (request.name.empty())
    return read_file(request.format, request.path, request.labels, 0, request.label_column,
                     request.header, check);
  const NamedDataset& dataset = named(request.name);
  for (const std::string_view file : {dataset.features, dataset.labels})
    if (!file.empty() && !std::filesystem::exists(file))
      throw DataError(std::string(file), "",
                      fmt::format("the file of dataset '{}', installed by Debian's package {} "
                                  "(scripts/setup.sh installs it)",
                                  dataset.name, dataset.package));
  return read_file(std::string(dataset.format), std::string(dataset.features),
                   std::string(dataset.labels), dataset.num_features, -1, false, check);
}

}  // namespace

Dataset read_raw_dataset(const DatasetRequest& request, double scaling_samples) {
  std::optional<DatasetShape> seen;
  const ShapeCheck check = [&](const DatasetShape& shape) {
    seen = shape;
    const auto samples = static_cast<double>(shape.samples);
    const auto features = static_cast<double>(shape.features);
    require_memory(shape,
                   dataset_bytes(samples, features) + static_cast<double>(shape.reading_bytes),
                   preprocess_bytes(request, samples, features, scaling_samples,
                                    /*on_a_copy=*/false),
                   request);
  };
  try {
    return read_request(request, check);
  } catch (const std::bad_alloc&) {  // past the check: the memory went between check and use
    throw DataError(
        seen ? seen->file : source_of(request), "",
        "enough memory to read it" +
            (seen ? fmt::format(" ({} × {} features)", samples_text(seen->samples), seen->features)
                  : std::string()) +
            ": out of memory while reading it; free memory or use a smaller file");
  }
}

namespace {

// preprocess, with the scaling `scaling_for(pooled data)` gives: each step in place but pooling
// and the random layer, which make a smaller or a new matrix (the raw one then goes).
Dataset preprocess_with(Dataset raw, const DatasetRequest& request,
                        const std::function<FeatureScaling(const Dataset&)>& scaling_for) {
  Dataset data = request.pooling > 1 ? pooled(raw, request.pooling) : std::move(raw);
  raw = Dataset{};
  if (request.scale != "none") {
    const FeatureScaling scaling = scaling_for(data);
    if (scaling.shift.size() != static_cast<std::size_t>(data.num_features()))
      throw DataError(data.source, "",
                      fmt::format("has {} features, but the data its scaling is fitted on has {}",
                                  data.num_features(), scaling.shift.size()));
    apply_scaling(scaling, data.features);
  }
  if (request.random_relu > 0) data.features = random_relu_features(data, request.random_relu);
  if (request.bias) {
    data.features.conservativeResize(Eigen::NoChange, data.features.cols() + 1);
    data.features.col(data.features.cols() - 1).setOnes();
  }
  return data;
}

// The scaling `request` fits on `raw` (pooled as `request` asks).
FeatureScaling scaling_fitted_on(const Dataset& raw, const DatasetRequest& request) {
  return request.pooling > 1 ? fit_scaling(pooled(raw, request.pooling).features, request.scale)
                             : fit_scaling(raw.features, request.scale);
}

}  // namespace

Dataset preprocess(Dataset raw, const DatasetRequest& request, const Dataset* scaling_raw) {
  return preprocess_with(std::move(raw), request, [&](const Dataset& data) {
    return scaling_raw == nullptr ? fit_scaling(data.features, request.scale)
                                  : scaling_fitted_on(*scaling_raw, request);
  });
}

LabelClasses label_classes(const Dataset& dataset, int max_classes) {
  LabelClasses classes;
  std::set<double> distinct;
  for (const double label : dataset.labels) {
    distinct.insert(label);
    if (static_cast<int>(distinct.size()) > max_classes)
      throw DataError(dataset.source, "",
                      fmt::format("at most {} distinct labels for a split by class (real-valued "
                                  "targets can only be split iid)",
                                  max_classes));
  }
  classes.values.assign(distinct.begin(), distinct.end());
  classes.class_of_sample.reserve(dataset.labels.size());
  for (const double label : dataset.labels)
    classes.class_of_sample.push_back(
        static_cast<int>(std::lower_bound(classes.values.begin(), classes.values.end(), label) -
                         classes.values.begin()));
  return classes;
}

namespace {

// The first sample whose label is not an integer (0.013, 2.5), or -1: such labels are targets,
// not classes, however few distinct ones there are.
std::int64_t first_fractional_label(const Dataset& data) {
  for (std::size_t i = 0; i < data.labels.size(); ++i)
    if (data.labels[i] != std::floor(data.labels[i])) return static_cast<std::int64_t>(i);
  return -1;
}

}  // namespace

LabelClasses dataset_classes(const Dataset& data) {
  const std::int64_t fractional = first_fractional_label(data);
  if (fractional < 0) {
    try {
      return label_classes(data, kMaxClasses);
    } catch (const DataError&) {
    }
  }
  // Real-valued targets: one class holding every sample, enough for an iid split.
  LabelClasses one_class;
  one_class.by_label = false;
  one_class.fractional_sample = fractional;
  one_class.values = {0.0};
  one_class.class_of_sample.assign(static_cast<std::size_t>(data.num_samples()), 0);
  return one_class;
}

std::string real_valued_reason(const Dataset& data, const LabelClasses& classes) {
  if (classes.fractional_sample < 0)
    return fmt::format("it has more than {} distinct labels", kMaxClasses);
  return fmt::format("the label {} of sample {} (counted from 0) is not an integer",
                     data.labels[static_cast<std::size_t>(classes.fractional_sample)],
                     classes.fractional_sample);
}

namespace {

// FNV-1a over 8-byte words (then the tail bytes): a dataset of hundreds of MB hashes in a
// fraction of the time a byte at a time takes, with the same one-to-one steps.
std::uint64_t word_hash(const void* data, std::size_t bytes, std::uint64_t hash) {
  const auto* at = static_cast<const unsigned char*>(data);
  std::size_t done = 0;
  for (; done + 8 <= bytes; done += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, at + done, 8);
    hash = (hash ^ word) * 0x100000001b3ULL;
  }
  for (; done < bytes; ++done) hash = (hash ^ at[done]) * 0x100000001b3ULL;
  return hash;
}

// "60000x784-" and 16 hex digits hashing the raw samples and labels.
std::string fingerprint_of(const Dataset& raw) {
  std::uint64_t hash =
      word_hash(raw.features.data(), static_cast<std::size_t>(raw.features.size()) * sizeof(float),
                0xcbf29ce484222325ULL);
  hash = word_hash(raw.labels.data(), raw.labels.size() * sizeof(double), hash);
  return fmt::format("{}x{}-{:016x}", raw.num_samples(), raw.num_features(), hash);
}

// Where the scaling fitted on `file_key`'s data, pooled and scaled as `request` asks, is kept.
std::string scaling_key(const std::string& file_key, const DatasetRequest& request) {
  return fmt::format("{}|scale={}|pooling={}", file_key, request.scale, request.pooling);
}

}  // namespace

Dataset DatasetCache::read_locked(const DatasetRequest& request) {
  Dataset raw = read_raw_dataset(request);
  std::string fingerprint = fingerprint_of(raw);
  const auto [known, added] = fingerprints_.emplace(request.file_key(), fingerprint);
  if (!added && known->second != fingerprint)
    throw DataError(raw.source, "",
                    fmt::format("the data read before (fingerprint {}), found {}: the file "
                                "changed while it was in use; run again",
                                known->second, fingerprint));
  return raw;
}

const std::shared_ptr<const Dataset>& DatasetCache::raw_locked(const DatasetRequest& request) {
  auto found = raw_.find(request.file_key());
  if (found == raw_.end())  // (inserted only once read: a failed read leaves nothing behind)
    found = raw_.emplace(request.file_key(), std::make_shared<const Dataset>(read_locked(request)))
                .first;
  return found->second;
}

const FeatureScaling& DatasetCache::training_scaling_locked(const DatasetRequest& request) {
  const DatasetRequest& training = *request.scaled_like;
  const std::string key = scaling_key(training.file_key(), request);
  if (const auto found = scalings_.find(key); found != scalings_.end()) return found->second;
  const auto held = raw_.find(training.file_key());
  FeatureScaling scaling = held != raw_.end() ? scaling_fitted_on(*held->second, request)
                                              : scaling_fitted_on(read_locked(training), request);
  return scalings_.emplace(key, std::move(scaling)).first->second;
}

Dataset DatasetCache::prepared_locked(const DatasetRequest& request) {
  const bool scaled_like = request.scaled_like && request.scale != "none";
  // (a held-out set's scaling is fitted first: reading its training set needs memory too)
  if (scaled_like) training_scaling_locked(request);
  const auto scaling_for = [&](const Dataset& data) {
    if (scaled_like) return training_scaling_locked(request);
    FeatureScaling fitted = fit_scaling(data.features, request.scale);
    scalings_.emplace(scaling_key(request.file_key(), request), fitted);  // for held-out sets
    return fitted;
  };
  const auto held = raw_.find(request.file_key());
  const bool on_a_copy = held != raw_.end();
  Dataset raw = on_a_copy ? Dataset{} : read_locked(request);  // (checked with preprocessing)
  const Dataset& source = on_a_copy ? *held->second : raw;
  const auto samples = static_cast<std::uint64_t>(source.num_samples());
  const std::int64_t features = source.num_features();
  const std::string file = source.source;
  if (on_a_copy)
    require_memory({file, samples, static_cast<std::uint64_t>(features), 0}, 0.0,
                   preprocess_bytes(request, static_cast<double>(samples),
                                    static_cast<double>(features), static_cast<double>(samples),
                                    /*on_a_copy=*/true),
                   request);
  try {
    return preprocess_with(on_a_copy ? Dataset(*held->second) : std::move(raw), request,
                           scaling_for);
  } catch (const std::bad_alloc&) {
    throw DataError(file, "",
                    fmt::format("enough memory to preprocess its {} × {} features: out of memory "
                                "while preprocessing them; free memory, or ask for less (fewer "
                                "preprocess.random_relu features)",
                                samples_text(samples), features));
  }
}

std::shared_ptr<const Dataset> DatasetCache::get(const DatasetRequest& request) {
  std::lock_guard lock(mutex_);
  if (const auto found = prepared_.find(request.key()); found != prepared_.end())
    return found->second;
  const auto prepared = preprocesses(request)
                            ? std::make_shared<const Dataset>(prepared_locked(request))
                            : raw_locked(request);
  prepared_.emplace(request.key(), prepared);
  return prepared;
}

std::string DatasetCache::fingerprint(const DatasetRequest& request) {
  get(request);
  std::lock_guard lock(mutex_);
  return fingerprints_.at(request.file_key());
}

double dataset_bytes(double samples, double features) {
  return samples * features * sizeof(float) + samples * sizeof(double);
}

std::uint64_t DatasetCache::bytes() const {
  std::lock_guard lock(mutex_);
  std::set<const Dataset*> counted;
  double total = 0.0;
  for (const auto* map : {&raw_, &prepared_})
    for (const auto& [key, dataset] : *map)
      if (counted.insert(dataset.get()).second)
        total += dataset_bytes(static_cast<double>(dataset->num_samples()),
                               static_cast<double>(dataset->num_features()));
  return static_cast<std::uint64_t>(total);
}

}  // namespace istlab
