#pragma once
// Where a problem's data come from: a named dataset installed by scripts/setup.sh, or a
// user's file in one of the readers' formats, then preprocessed (pooling, scaling, a bias
// feature). A sweep loads each distinct dataset once through a DatasetCache and every
// problem built from it reads the same copy.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "istlab/data/dataset.hpp"
#include "istlab/param/parameter.hpp"

namespace istlab {

struct DatasetRequest {
  std::string name;       // "fashion_mnist", "heart_scale"; empty when `path` is given
  std::string path;       // a user's file (features, or features and labels)
  std::string format;     // with `path`: "idx", "libsvm", "csv" or "npy"
  std::string labels;     // with `path`, for idx and npy: the labels file
  int label_column = -1;  // csv: the label's field (negative: from the end)
  bool header = false;    // csv: skip the first line
  // "none", "unit" (all values onto [0, 1]), "standardize" (each feature to mean 0 and
  // deviation 1) or "standardize_all" (all values together to mean 0 and deviation 1)
  std::string scale = "none";
  int pooling = 1;      // 1, 2 or 4: average pooling of square images
  int random_relu = 0;  // > 0: that many features relu(R a), R a fixed Gaussian layer
  bool bias = false;    // append a constant feature 1
  // A held-out set scaled with its training set's statistics (not its own): the training
  // set's file(s); its pooling is this request's.
  std::shared_ptr<const DatasetRequest> scaled_like;

  // The raw file(s) as text, and everything: equal keys, equal datasets.
  // Whether it names a dataset at all (a family's optional held-out set may name none).
  bool names_a_dataset() const { return !name.empty() || !path.empty(); }
  std::string file_key() const;
  std::string key() const;
};

std::vector<std::string> dataset_names();        // the named datasets
std::vector<NameAndMeaning> dataset_meanings();  // with their shape and where they come from
std::vector<std::string> dataset_formats();      // idx, libsvm, csv, npy
std::vector<std::string> feature_scale_names();  // none, unit, standardize, standardize_all
std::vector<NameAndMeaning> feature_scale_meanings();

// Reads the file(s) of `request` as they are (throws DataError; a named dataset that is not
// installed says which Debian package holds it). Before anything of the dataset's size is
// allocated, its shape (from the headers, or a first pass over text) is checked against the
// memory available (io/memory.hpp): the dataset as held, what the reader holds meanwhile and
// what `request`'s preprocessing will make must fit, else a DataError names the file, the
// shape and the bytes. `scaling_samples`: the samples of the set a held-out set's scaling is
// fitted on (0: itself). Running out of memory all the same is a DataError naming the file.
Dataset read_raw_dataset(const DatasetRequest& request, double scaling_samples = 0.0);
// Bytes `request`'s preprocessing holds at its peak besides a raw dataset of `samples` ×
// `features`: the copy it works on (the pooled images; the whole dataset when `on_a_copy`,
// else it scales in place), the random layer and its output, the bias column's resize.
double preprocess_bytes(const DatasetRequest& request, double samples, double features,
                        double scaling_samples, bool on_a_copy);
// Pooling, then scaling, then the random ReLU layer, then the bias feature, as `request`
// asks. Throws DataError when pooling does not fit (the features are not a square image whose
// side it divides) or the random features would exceed 2^31 values.
//
// The random ReLU layer stands in for a frozen pretrained feature extractor: relu(R a) with R
// (m × d) drawn N(0, 1/d) from one fixed stream, so every problem and every seed sees the same
// layer, as they would the same pretrained network. R·a is summed over blocks of 128 inputs in
// a fixed order, so the features are the same bits on every machine.
// The scaling is fitted on `scaling_raw` (pooled alike) when given, else on the data itself.
// Scaling works on `raw` in place (pass it with std::move to keep one copy).
Dataset preprocess(Dataset raw, const DatasetRequest& request,
                   const Dataset* scaling_raw = nullptr);

// Distinct label values in ascending order, and each sample's index among them: the classes
// the splits and histograms count.
struct LabelClasses {
  std::vector<double> values;
  std::vector<int> class_of_sample;
  bool by_label = true;                 // false: one class standing for real-valued targets
  std::int64_t fractional_sample = -1;  // the first sample whose label is not an integer
};
// Throws DataError (naming the dataset) for more than `max_classes` distinct labels.
LabelClasses label_classes(const Dataset& dataset, int max_classes);
inline constexpr int kMaxClasses = 1000;
inline constexpr int kMaxRandomFeatures = 16384;
// The classes splits count: label_classes, or for real-valued targets (a label that is not
// an integer, or more than kMaxClasses distinct labels) one class holding every sample
// (by_label false): enough for an iid split.
LabelClasses dataset_classes(const Dataset& dataset);
// Why dataset_classes found real-valued targets (by_label false), for messages: "the label
// 0.013 of sample 4 (counted from 0) is not an integer" or "it has more than 1000 distinct
// labels".
std::string real_valued_reason(const Dataset& dataset, const LabelClasses& classes);

// A scaling fitted on one set of features and applied to any: feature j becomes
// (a_j − shift_j)/width_j, or 0 where width_j is 0 (a constant feature).
struct FeatureScaling {
  std::vector<double> shift;
  std::vector<double> width;
};

// Datasets loaded once and shared read-only; safe to call from several threads (a load
// runs under a lock: the others wait for it, they never load twice). Each read and each
// preprocessing is checked against the memory available first (read_raw_dataset), and
// running out of memory is a DataError naming the file.
//
// Each dataset is held once: a preprocessed one is made in place from the file as read, and
// the raw values are kept only when a request without preprocessing asks for them (then other
// preprocessings of that file work on copies of them). So a second preprocessing of a file
// that no one asked for raw reads the file again; a file that changed meanwhile is an error.
// A held-out set's scaling, fitted on its training set, is kept (not the training set).
class DatasetCache {
 public:
  std::shared_ptr<const Dataset> get(const DatasetRequest& request);
  // Bytes of every dataset held (raw files and their preprocessed forms).
  std::uint64_t bytes() const;
  // 16 hex digits hashing the raw samples and labels of `request`'s file(s) (loading them
  // if needed): a file changed in place gets new cell keys, so old records are not reused.
  std::string fingerprint(const DatasetRequest& request);

 private:
  // The file(s) as read, fingerprinted (a fingerprint that differs from an earlier read's
  // throws DataError).
  Dataset read_locked(const DatasetRequest& request);
  // The raw dataset, read once and kept.
  const std::shared_ptr<const Dataset>& raw_locked(const DatasetRequest& request);
  // `request`'s preprocessing: of a copy of the raw dataset when it is kept, else in place.
  Dataset prepared_locked(const DatasetRequest& request);
  // The scaling a held-out set takes from its training set (request.scaled_like): fitted once,
  // when the training set was preprocessed or else from its file, and kept.
  const FeatureScaling& training_scaling_locked(const DatasetRequest& request);

  mutable std::mutex mutex_;
  std::map<std::string, std::string> fingerprints_;  // by file key, from the first read
  std::map<std::string, FeatureScaling> scalings_;   // by file key, scale and pooling
  std::map<std::string, std::shared_ptr<const Dataset>> raw_;
  std::map<std::string, std::shared_ptr<const Dataset>> prepared_;
};

// Bytes of a dataset of `samples` × `features` as held in memory.
double dataset_bytes(double samples, double features);

}  // namespace istlab
