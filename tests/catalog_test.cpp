// The dataset catalog (data/catalog.hpp): preprocessing (pooling, scaling, bias) on hand
// values, label classes, the DatasetCache's sharing and errors, and the two named Debian
// datasets when installed.

#include "istlab/data/catalog.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data_files.hpp"
#include "memory_limit.hpp"
#include "temp_dir.hpp"

namespace istlab {
namespace {

namespace fs = std::filesystem;

// A dataset from rows of features (one sample per row) and labels.
Dataset dataset_of(const std::vector<std::vector<float>>& rows, std::vector<double> labels) {
  Dataset data;
  data.source = "hand.csv";
  data.features.resize(static_cast<Eigen::Index>(rows.size()),
                       static_cast<Eigen::Index>(rows.front().size()));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j)
      data.features(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  data.labels = std::move(labels);
  return data;
}

// The DataError `call` throws (a failure, and an empty error, when it throws none).
DataError data_error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const DataError& error) {
    return error;
  }
  ADD_FAILURE() << "no DataError";
  return DataError("", "", "");
}

DatasetRequest with_pooling(int pooling) {
  DatasetRequest request;
  request.pooling = pooling;
  return request;
}

DatasetRequest with_scale(const std::string& scale, bool bias = false) {
  DatasetRequest request;
  request.scale = scale;
  request.bias = bias;
  return request;
}

// ---------------------------------------------------------------------------------------
// Pooling

TEST(Preprocess, PoolingTwoAveragesEachTwoByTwoBlockOfAFourByFourImage) {
  // Sample 0 is 0..15 row-major:     Sample 1:
  //    0  1 |  2  3                    1  3 |  0  0
  //    4  5 |  6  7                    5  7 |  0  8
  //   ------+------                   ------+------
  //    8  9 | 10 11                    2  2 | -1  1
  //   12 13 | 14 15                    2  2 |  4  0
  const Dataset raw = dataset_of({{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
                                  {1, 3, 0, 0, 5, 7, 0, 8, 2, 2, -1, 1, 2, 2, 4, 0}},
                                 {7.0, -3.0});
  const Dataset pooled = preprocess(raw, with_pooling(2));
  ASSERT_EQ(pooled.num_samples(), 2);
  ASSERT_EQ(pooled.num_features(), 4);
  const std::vector<float> first = {2.5f, 4.5f, 10.5f, 12.5f};
  const std::vector<float> second = {4.0f, 2.0f, 2.0f, 1.0f};
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(pooled.features(0, j), first[j]) << "block " << j;
    EXPECT_EQ(pooled.features(1, j), second[j]) << "block " << j;
  }
  EXPECT_EQ(pooled.labels, raw.labels);
  // Pooling 4 of the same image: the mean of all 16 values.
  const Dataset whole = preprocess(raw, with_pooling(4));
  ASSERT_EQ(whole.num_features(), 1);
  EXPECT_EQ(whole.features(0, 0), 7.5f);
  EXPECT_EQ(whole.features(1, 0), 2.25f);
}

TEST(Preprocess, PoolingThatDoesNotDivideTheSideThrowsDataError) {
  const Dataset raw = dataset_of({std::vector<float>(36, 1.0f)}, {0.0});  // a 6 × 6 image
  const DataError error = data_error_of([&] { preprocess(raw, with_pooling(4)); });
  EXPECT_NE(error.expected.find("preprocess.pooling"), std::string::npos) << error.what();
  EXPECT_NE(error.expected.find("36 features"), std::string::npos) << error.what();
  EXPECT_EQ(error.file, "hand.csv");
  EXPECT_EQ(preprocess(raw, with_pooling(3)).num_features(), 4);  // 3 divides 6
}

TEST(Preprocess, PoolingOfNonSquareFeaturesThrowsDataError) {
  const Dataset raw = dataset_of({std::vector<float>(8, 1.0f)}, {0.0});
  const DataError error = data_error_of([&] { preprocess(raw, with_pooling(2)); });
  EXPECT_NE(error.expected.find("square images"), std::string::npos) << error.what();
  EXPECT_NE(error.expected.find("preprocess.pooling"), std::string::npos) << error.what();
  EXPECT_NE(error.expected.find("8 features"), std::string::npos) << error.what();
}

// ---------------------------------------------------------------------------------------
// Scaling and the bias feature

TEST(Preprocess, UnitScaleMapsPixelsToTheirValueOver255) {
  std::vector<float> pixels(256);
  for (int a = 0; a < 256; ++a) pixels[a] = static_cast<float>(a);
  const Dataset raw = dataset_of({pixels}, {0.0});
  const Dataset scaled = preprocess(raw, with_scale("unit"));
  ASSERT_EQ(scaled.num_features(), 256);
  for (int a = 0; a < 256; ++a)
    EXPECT_EQ(scaled.features(0, a), static_cast<float>(a / 255.0)) << "pixel " << a;
}

TEST(Preprocess, UnitScaleMapsTheGlobalMinimumToZeroAndMaximumToOne) {
  // One range for all values together, not one per feature: feature 1 spans [0, 1] but
  // becomes [0.25, 0.375] since the global range is [−2, 6].
  const Dataset raw = dataset_of({{-2, 0, 3}, {6, 1, 3}, {2, 0.5f, 3}}, {0, 1, 2});
  const Dataset scaled = preprocess(raw, with_scale("unit"));
  const std::vector<std::vector<float>> expected = {
      {0.0f, 0.25f, 0.625f}, {1.0f, 0.375f, 0.625f}, {0.5f, 0.3125f, 0.625f}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(scaled.features(i, j), expected[i][j]) << "(" << i << ", " << j << ")";
}

TEST(Preprocess, StandardiseGivesEachFeatureMeanZeroAndStdOne) {
  // Feature 0: 1, 2, 3, 4 (mean 2.5, population std √1.25); feature 1: −10, 0, 0, 30;
  // feature 2 is constant and becomes 0.
  const Dataset raw = dataset_of({{1, -10, 5}, {2, 0, 5}, {3, 0, 5}, {4, 30, 5}}, {0, 0, 1, 1});
  const Dataset scaled = preprocess(raw, with_scale("standardize"));
  ASSERT_EQ(scaled.num_features(), 3);
  const double root = std::sqrt(1.25);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(scaled.features(i, 0), (i + 1 - 2.5) / root, 1e-6);
  for (int j = 0; j < 2; ++j) {
    double mean = 0.0;
    double square = 0.0;
    for (int i = 0; i < 4; ++i) {
      mean += scaled.features(i, j) / 4.0;
      square += scaled.features(i, j) * scaled.features(i, j) / 4.0;
    }
    EXPECT_NEAR(mean, 0.0, 1e-6) << "feature " << j;
    EXPECT_NEAR(std::sqrt(square - mean * mean), 1.0, 1e-6) << "feature " << j;
  }
  for (int i = 0; i < 4; ++i) EXPECT_EQ(scaled.features(i, 2), 0.0f);
}

TEST(Preprocess, StandardiseAllGivesAllValuesTogetherOneMeanZeroAndOneStdOne) {
  // Values 1 … 8: mean 4.5, population variance (8² − 1)/12 = 5.25, for both features alike
  // (feature 1 alone would have mean 6.5).
  const Dataset raw = dataset_of({{1, 5}, {2, 6}, {3, 7}, {4, 8}}, {0, 0, 1, 1});
  const Dataset scaled = preprocess(raw, with_scale("standardize_all"));
  const double root = std::sqrt(5.25);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 2; ++j)
      EXPECT_NEAR(scaled.features(i, j), (raw.features(i, j) - 4.5) / root, 1e-6);
  EXPECT_NEAR(scaled.features.cast<double>().mean(), 0.0, 1e-6);
  EXPECT_NEAR(scaled.features.cast<double>().squaredNorm() / 8.0, 1.0, 1e-6);
  // A constant matrix has no deviation: every value becomes 0, as a constant feature does.
  const Dataset flat =
      preprocess(dataset_of({{3, 3}, {3, 3}}, {0, 1}), with_scale("standardize_all"));
  EXPECT_EQ(flat.features, FeatureMatrix::Zero(2, 2));
  EXPECT_NE(with_scale("standardize_all").key(), with_scale("standardize").key());
}

TEST(Preprocess, RandomReluIsAFixedLayerOfRectifiedLinearFeatures) {
  // Rows e_0, 2·e_0, e_1 and e_0 + e_1 of R^3: the features are relu(R a) for one fixed R.
  const Dataset raw = dataset_of({{1, 0, 0}, {2, 0, 0}, {0, 1, 0}, {1, 1, 0}}, {0, 1, 0, 1});
  DatasetRequest request;
  request.random_relu = 64;
  const Dataset features = preprocess(raw, request);
  ASSERT_EQ(features.num_features(), 64);
  EXPECT_GE(features.features.minCoeff(), 0.0f);
  EXPECT_EQ(features.features.row(1), 2.0f * features.features.row(0));  // relu is homogeneous
  const auto zeros = (features.features.row(0).array() == 0.0f).count();
  EXPECT_GT(zeros, 16);  // about half of N(0, 1/3) draws are negative
  EXPECT_LT(zeros, 48);
  // relu(r_0 + r_1) where both are positive is the sum of the two.
  for (Eigen::Index j = 0; j < 64; ++j) {
    if (features.features(0, j) > 0 && features.features(2, j) > 0) {
      EXPECT_NEAR(features.features(3, j), features.features(0, j) + features.features(2, j), 1e-6);
    }
  }
  EXPECT_EQ(preprocess(raw, request).features, features.features);  // the same layer every time
  DatasetRequest with_bias = request;
  with_bias.bias = true;
  EXPECT_EQ(preprocess(raw, with_bias).num_features(), 65);  // the bias comes after
  EXPECT_NE(request.key(), DatasetRequest{}.key());
}

TEST(Preprocess, BiasAppendsAColumnOfOnesAfterScaling) {
  const Dataset raw = dataset_of({{-2, 0, 3}, {6, 1, 3}, {2, 0.5f, 3}}, {0, 1, 2});
  // Unscaled: the raw features, then 1.
  const Dataset plain = preprocess(raw, with_scale("none", true));
  ASSERT_EQ(plain.num_features(), 4);
  EXPECT_EQ(plain.features.leftCols(3), raw.features);
  // Scaled: the ones are not scaled (unit would map a 1 to 0.375, standardize to 0).
  for (const std::string scale : {"none", "unit", "standardize", "standardize_all"}) {
    SCOPED_TRACE(scale);
    const Dataset without = preprocess(raw, with_scale(scale));
    const Dataset with = preprocess(raw, with_scale(scale, true));
    ASSERT_EQ(with.num_features(), 4);
    EXPECT_EQ(with.features.leftCols(3), without.features);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(with.features(i, 3), 1.0f);
    EXPECT_EQ(with.labels, raw.labels);
  }
  // After pooling too: a 4 × 4 image pooled by 2 has 4 features, then the bias.
  DatasetRequest request = with_scale("unit", true);
  request.pooling = 2;
  const Dataset image = dataset_of({std::vector<float>(16, 3.0f)}, {0.0});
  EXPECT_EQ(preprocess(image, request).num_features(), 5);
}

// ---------------------------------------------------------------------------------------
// Label classes

TEST(LabelClasses, AreTheSortedDistinctLabelsAndEachSamplesIndex) {
  const Dataset data = dataset_of({{0}, {0}, {0}, {0}, {0}, {0}}, {3.0, -1.0, 3.0, 0.5, -1.0, 7.0});
  const LabelClasses classes = label_classes(data, kMaxClasses);
  EXPECT_EQ(classes.values, (std::vector<double>{-1.0, 0.5, 3.0, 7.0}));
  EXPECT_EQ(classes.class_of_sample, (std::vector<int>{2, 0, 2, 1, 0, 3}));
}

// Labels that are not integers are targets, not classes, however few distinct ones there
// are; real-valued targets stay legal (one class: an iid split).
TEST(LabelClasses, LabelsThatAreNotIntegersAreRealValuedTargetsForTheSplits) {
  const Dataset integers = dataset_of({{0}, {1}, {2}}, {-1, 1, 7});
  EXPECT_TRUE(dataset_classes(integers).by_label);
  const Dataset reals = dataset_of({{0}, {1}, {2}, {3}}, {2, 0.5, 1.5, 0.5});
  const LabelClasses classes = dataset_classes(reals);
  EXPECT_FALSE(classes.by_label);
  EXPECT_EQ(classes.fractional_sample, 1);
  EXPECT_EQ(classes.values.size(), 1u);
  EXPECT_EQ(classes.class_of_sample, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(real_valued_reason(reals, classes),
            "the label 0.5 of sample 1 (counted from 0) is not an integer");
}

TEST(LabelClasses, MoreDistinctLabelsThanMaxClassesThrowDataError) {
  const Dataset data = dataset_of({{0}, {0}, {0}, {0}, {0}}, {0.0, 1.0, 2.0, 3.0, 4.0});
  EXPECT_EQ(label_classes(data, 5).values.size(), 5u);  // exactly the limit is fine
  const DataError error = data_error_of([&] { label_classes(data, 4); });
  EXPECT_EQ(error.file, "hand.csv");
  EXPECT_NE(error.expected.find("at most 4 distinct labels"), std::string::npos) << error.what();
}

// ---------------------------------------------------------------------------------------
// DatasetCache

// A CSV file of 3 samples × 2 features (label last).
std::string write_csv(const fs::path& dir) {
  const std::string path = (dir / "small.csv").string();
  std::ofstream(path) << "1,2,0\n3,4,1\n5,8,0\n";
  return path;
}

DatasetRequest csv_request(const std::string& path) {
  DatasetRequest request;
  request.path = path;
  request.format = "csv";
  return request;
}

TEST(DatasetCache, EqualRequestsShareOneCopyLoadedOnce) {
  const TempDir dir("catalog_cache_shared");
  const std::string path = write_csv(dir.path());
  DatasetCache cache;
  const auto first = cache.get(csv_request(path));
  ASSERT_EQ(first->num_samples(), 3);
  ASSERT_EQ(first->num_features(), 2);
  EXPECT_EQ(first->features(2, 1), 8.0f);
  // Once loaded the file is not read again: removing it changes nothing.
  fs::remove(path);
  const auto second = cache.get(csv_request(path));
  EXPECT_EQ(second.get(), first.get());
  EXPECT_GE(cache.bytes(), static_cast<std::uint64_t>(dataset_bytes(3, 2)));
}

TEST(DatasetCache, DifferentPreprocessingGivesADifferentCopyOfTheSameFile) {
  const TempDir dir("catalog_cache_preprocess");
  const std::string path = write_csv(dir.path());
  DatasetCache cache;
  const auto raw = cache.get(csv_request(path));
  fs::remove(path);  // the raw file is read once, for every preprocessing of it
  DatasetRequest unit = csv_request(path);
  unit.scale = "unit";
  DatasetRequest biased = csv_request(path);
  biased.bias = true;
  const auto scaled = cache.get(unit);
  const auto with_bias = cache.get(biased);
  EXPECT_NE(scaled.get(), raw.get());
  EXPECT_NE(with_bias.get(), raw.get());
  EXPECT_NE(with_bias.get(), scaled.get());
  EXPECT_EQ(scaled->features(2, 1), 1.0f);  // 8 is the maximum
  EXPECT_EQ(with_bias->num_features(), 3);
  EXPECT_EQ(cache.get(unit).get(), scaled.get());
  EXPECT_EQ(raw->features(2, 1), 8.0f);  // the raw copy is not changed by preprocessing
}

// Issue 23: a dataset is held once. Preprocessing works on the file as read, in place; no raw
// copy stays behind unless a request asks for the raw values.
TEST(DatasetCache, APreprocessedDatasetIsHeldWithoutARawCopy) {
  const TempDir dir("catalog_cache_once");
  const std::string path = write_csv(dir.path());
  DatasetCache cache;
  DatasetRequest unit = csv_request(path);
  unit.scale = "unit";
  const auto scaled = cache.get(unit);
  EXPECT_EQ(scaled->features(2, 1), 1.0f);  // 8 is the maximum
  EXPECT_EQ(scaled->features(0, 0), 0.0f);  // 1 the minimum
  EXPECT_EQ(cache.bytes(), static_cast<std::uint64_t>(dataset_bytes(3, 2)));
  EXPECT_EQ(cache.fingerprint(unit), cache.fingerprint(csv_request(path)));
}

// Another preprocessing of a file no request holds raw reads the file again; a file that
// changed in between is refused, naming it (its cells' keys hold the first read's fingerprint).
TEST(DatasetCache, ASecondPreprocessingRereadsTheFileAndRefusesAChangedOne) {
  const TempDir dir("catalog_cache_reread");
  const std::string path = write_csv(dir.path());
  DatasetCache cache;
  DatasetRequest unit = csv_request(path);
  unit.scale = "unit";
  DatasetRequest biased = csv_request(path);
  biased.bias = true;
  const auto scaled = cache.get(unit);
  const std::string fingerprint = cache.fingerprint(unit);
  EXPECT_EQ(cache.get(biased)->features(2, 2), 1.0f);
  EXPECT_EQ(cache.get(biased)->features(2, 1), 8.0f);
  EXPECT_EQ(cache.fingerprint(biased), fingerprint);
  std::ofstream(path) << "1,2,0\n3,4,1\n5,9,0\n";
  DatasetRequest standardized = csv_request(path);
  standardized.scale = "standardize";
  const DataError error = data_error_of([&] { cache.get(standardized); });
  EXPECT_EQ(error.file, path);
  EXPECT_EQ(
      error.expected.rfind("the data read before (fingerprint " + fingerprint + "), found ", 0), 0u)
      << error.expected;
  EXPECT_TRUE(error.expected.find("the file changed while it was in use") != std::string::npos);
}

// A held-out set is scaled with its training set's statistics, as preprocess(test, request,
// &training) scales it, whether the training set was prepared first (its scaling is kept, not
// its values) or not at all.
TEST(DatasetCache, AHeldOutSetTakesItsTrainingSetsScalingWithoutKeepingTheTrainingSet) {
  const TempDir dir("catalog_cache_scaled_like");
  const std::string train_path = write_csv(dir.path());
  const std::string test_path = (dir.path() / "test.csv").string();
  std::ofstream(test_path) << "0,2,1\n9,3,0\n";
  for (const char* scale : {"unit", "standardize", "standardize_all"}) {
    DatasetRequest train = csv_request(train_path);
    train.scale = scale;
    DatasetRequest test = csv_request(test_path);
    test.scale = scale;
    test.scaled_like = std::make_shared<const DatasetRequest>(train);
    const Dataset train_raw = read_raw_dataset(csv_request(train_path));
    const Dataset expected = preprocess(read_raw_dataset(test), test, &train_raw);
    DatasetCache after_training;
    after_training.get(train);
    EXPECT_EQ(after_training.get(test)->features, expected.features) << scale;
    EXPECT_EQ(after_training.bytes(),
              static_cast<std::uint64_t>(dataset_bytes(3, 2) + dataset_bytes(2, 2)));
    DatasetCache alone;
    EXPECT_EQ(alone.get(test)->features, expected.features) << scale;
    EXPECT_EQ(alone.bytes(), static_cast<std::uint64_t>(dataset_bytes(2, 2)));
  }
}

TEST(DatasetCache, RequestForAMissingFileThrowsDataErrorNamingTheFile) {
  const TempDir dir("catalog_cache_missing");
  const std::string path = (dir.path() / "absent_features.csv").string();
  DatasetCache cache;
  const DataError error = data_error_of([&] { cache.get(csv_request(path)); });
  EXPECT_EQ(error.file, path);
  EXPECT_NE(std::string(error.what()).find("absent_features.csv"), std::string::npos)
      << error.what();
}

// A failed read leaves nothing behind for bytes() to count.
TEST(DatasetCache, BytesAfterAFailedRequestCountsOnlyLoadedDatasets) {
  const TempDir dir("catalog_cache_bytes");
  DatasetCache cache;
  EXPECT_THROW(cache.get(csv_request((dir.path() / "absent.csv").string())), DataError);
  EXPECT_EQ(cache.bytes(), 0u);
  const auto loaded = cache.get(csv_request(write_csv(dir.path())));
  EXPECT_EQ(cache.bytes(), static_cast<std::uint64_t>(dataset_bytes(3, 2)));
}

// A CSV file of `samples` × `features` zeros (label last, alternately 0 and 1).
std::string write_zeros_csv(const fs::path& dir, int samples, int features) {
  const std::string path = (dir / "zeros.csv").string();
  std::ofstream out(path);
  for (int i = 0; i < samples; ++i) {
    for (int j = 0; j < features; ++j) out << "0,";
    out << i % 2 << '\n';
  }
  return path;
}

bool holds(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Issue 21, item 3: a dataset is sized before it is read, and refused with its shape and the
// bytes when it would not fit (ISTLAB_MEMORY_LIMIT_BYTES stands in for a small machine).
TEST(DatasetCache, ADatasetLargerThanTheMemoryAvailableIsRefusedBeforeItIsRead) {
  const TempDir dir("catalog_memory_read");
  const std::string path = write_zeros_csv(dir.path(), 500, 1000);  // a 2,000,000-byte matrix
  DatasetCache cache;
  const ScopedMemoryLimit limit(std::uint64_t{2} << 20);
  const DataError error = data_error_of([&] { cache.get(csv_request(path)); });
  EXPECT_EQ(error.file, path);
  EXPECT_EQ(error.where, "");
  EXPECT_EQ(error.expected,
            "a dataset that fits in memory: its 500 samples × 1000 features need about 2.9 MiB "
            "(2.9 MiB to read), but 2.0 MiB available (capped by ISTLAB_MEMORY_LIMIT_BYTES); use "
            "a smaller file, or free memory");
  EXPECT_EQ(cache.bytes(), 0u);
}

// What preprocessing makes counts too: 100 samples of 4 features are 2,400 bytes, their 4096
// random features 1.6 MiB, more than the 1.5 MiB allowed; reading the file takes 1 MiB (the
// text reader's buffer).
TEST(DatasetCache, RandomFeaturesThatWouldNotFitAreRefusedBeforeTheyAreMade) {
  const TempDir dir("catalog_memory_relu");
  const std::string path = write_zeros_csv(dir.path(), 100, 4);
  DatasetRequest relu = csv_request(path);
  relu.random_relu = 4096;
  const ScopedMemoryLimit limit(std::uint64_t{3} << 19);
  DatasetCache fresh;
  const DataError at_read = data_error_of([&] { fresh.get(relu); });
  EXPECT_EQ(at_read.file, path);
  EXPECT_TRUE(holds(at_read.expected,
                    "its 100 samples × 4 features need about 2.6 MiB (1.0 MiB "
                    "to read, 1.6 MiB to preprocess), but 1.5 MiB available "
                    "(capped by ISTLAB_MEMORY_LIMIT_BYTES); use a smaller file "
                    "or fewer preprocess.random_relu features, or free memory"))
      << at_read.expected;
  EXPECT_EQ(fresh.bytes(), 0u);
  // The raw file alone fits; preprocessing the copy already held is refused the same way.
  DatasetCache cache;
  const auto raw = cache.get(csv_request(path));
  const DataError at_preprocess = data_error_of([&] { cache.get(relu); });
  EXPECT_TRUE(holds(at_preprocess.expected,
                    "its 100 samples × 4 features need about 1.6 MiB (1.6 MiB to preprocess)"))
      << at_preprocess.expected;
  EXPECT_EQ(cache.bytes(), static_cast<std::uint64_t>(dataset_bytes(100, 4)));
  relu.random_relu = 256;
  EXPECT_EQ(cache.get(relu)->num_features(), 256);
}

// A header is believed only as far as the memory goes: 2^31 pixels promised by a 20-byte
// file are refused from the header (before: the reader read on until the file ended). A plain
// file's bytes are converted a chunk at a time, so reading needs the floats (8 GiB) and no
// copy of the bytes.
TEST(DatasetCache, AnIdxHeaderPromisingMoreThanFitsIsRefusedFromTheHeader) {
  const TempDir dir("catalog_memory_idx");
  const std::string images = (dir.path() / "images").string();
  const std::string labels = (dir.path() / "labels").string();
  std::ofstream(images, std::ios::binary) << idx('\x08', {32768, 256, 256}, "\x01\x02\x03\x04");
  std::ofstream(labels, std::ios::binary) << idx('\x08', {1}, "\x01");
  DatasetRequest request;
  request.path = images;
  request.labels = labels;
  request.format = "idx";
  const ScopedMemoryLimit limit(std::uint64_t{1} << 30);
  DatasetCache cache;
  const DataError error = data_error_of([&] { cache.get(request); });
  EXPECT_EQ(error.file, images);
  EXPECT_TRUE(holds(error.expected,
                    "its 32768 samples × 65536 features need about 8.00 GiB (8.00 GiB to read), "
                    "but 1.00 GiB available"))
      << error.expected;
}

TEST(DatasetCache, UnknownDatasetNameThrowsDataErrorListingTheNames) {
  DatasetRequest request;
  request.name = "mnist_digits";
  DatasetCache cache;
  const DataError error = data_error_of([&] { cache.get(request); });
  EXPECT_EQ(error.file, "mnist_digits");
  EXPECT_NE(error.expected.find("fashion_mnist, fashion_mnist_test, heart_scale"),
            std::string::npos)
      << error.what();
}

// ---------------------------------------------------------------------------------------
// The named Debian datasets

const char* const kHeartScale = "/usr/share/doc/liblinear-tools/examples/heart_scale";
const char* const kFashionImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
const char* const kFashionLabels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";

TEST(NamedDatasets, HeartScaleHas270SamplesOf13FeaturesLabelledMinusOneAndOne) {
  if (!fs::exists(kHeartScale))
    GTEST_SKIP() << kHeartScale << " is absent: apt-get install liblinear-tools";
  DatasetRequest request;
  request.name = "heart_scale";
  const Dataset data = read_raw_dataset(request);
  EXPECT_EQ(data.num_samples(), 270);
  EXPECT_EQ(data.num_features(), 13);
  EXPECT_EQ(label_classes(data, kMaxClasses).values, (std::vector<double>{-1.0, 1.0}));
}

TEST(NamedDatasets, FashionMnistHas60000ImagesOf784PixelsIn10ClassesOf6000) {
  if (!fs::exists(kFashionImages) || !fs::exists(kFashionLabels))
    GTEST_SKIP() << kFashionImages << " is absent: apt-get install dataset-fashion-mnist";
  DatasetRequest request;
  request.name = "fashion_mnist";
  const Dataset data = read_raw_dataset(request);
  EXPECT_EQ(data.num_samples(), 60000);
  EXPECT_EQ(data.num_features(), 784);
  const LabelClasses classes = label_classes(data, kMaxClasses);
  ASSERT_EQ(classes.values, (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  std::vector<int> per_class(10, 0);
  for (const int c : classes.class_of_sample) ++per_class[c];
  EXPECT_EQ(per_class, std::vector<int>(10, 6000));
}

TEST(NamedDatasets, FashionMnistTestHas10000ImagesIn10ClassesOf1000) {
  DatasetRequest request;
  request.name = "fashion_mnist_test";
  if (!fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "apt-get install dataset-fashion-mnist";
  const Dataset data = read_raw_dataset(request);
  EXPECT_EQ(data.num_samples(), 10000);
  EXPECT_EQ(data.num_features(), 784);
  std::vector<int> per_class(10, 0);
  for (const int c : label_classes(data, kMaxClasses).class_of_sample) ++per_class[c];
  EXPECT_EQ(per_class, std::vector<int>(10, 1000));
}

}  // namespace
}  // namespace istlab
