// Dataset readers: valid files round-trip exactly; every malformed file is a DataError that
// names the file, the offset or line:column, and what was expected there. Small files are
// written into a temp folder (IDX gzip-compressed with zlib, as distributed); the Debian
// datasets (dataset-fashion-mnist, liblinear-tools) are read when installed.

#include "istlab/data/readers.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "data_files.hpp"
#include "temp_dir.hpp"

namespace istlab {
namespace {

namespace fs = std::filesystem;

// Each test writes its files into a folder of its own.
class ReadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    temp_.emplace("readers_" + std::string(test->name()));
    dir_ = temp_->path();
  }
  void TearDown() override { temp_.reset(); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path;
  }
  // Written with zlib's gzopen/gzwrite, as the Fashion-MNIST files are.
  std::string write_gzip(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    gzFile file = gzopen(path.c_str(), "wb9");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    EXPECT_EQ(gzclose(file), Z_OK);
    return path;
  }
  static std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  std::optional<TempDir> temp_;
  fs::path dir_;
};

// The DataError `read` throws (a failure, and an empty error, when it throws none).
DataError error_of(const std::function<void()>& read) {
  try {
    read();
  } catch (const DataError& error) {
    return error;
  }
  ADD_FAILURE() << "no DataError";
  return DataError("", "", "");
}

#define EXPECT_DATA_ERROR(call, file_, where_, expected_) \
  do {                                                    \
    const DataError data_error = error_of([&] { call; }); \
    EXPECT_EQ(data_error.file, file_);                    \
    EXPECT_EQ(data_error.where, where_);                  \
    EXPECT_EQ(data_error.expected, expected_);            \
  } while (0)

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {  // host order: little-endian
  return {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)};
}

// Three 2 × 2 images and their labels.
const std::string kPixels{
    0, 1, 2, 3, 10, 20, 30, 40, 0, 127, static_cast<char>(128), static_cast<char>(255)};
const std::string kImages = idx('\x08', {3, 2, 2}, kPixels);
const std::string kLabels = idx('\x08', {3}, std::string{7, 0, 9});

void expect_pixels(const Dataset& data) {
  ASSERT_EQ(data.num_samples(), 3);
  ASSERT_EQ(data.num_features(), 4);
  for (int k = 0; k < 12; ++k)
    EXPECT_EQ(data.features.data()[k], static_cast<float>(static_cast<unsigned char>(kPixels[k])));
  EXPECT_EQ(data.labels, (std::vector<double>{7, 0, 9}));
}

// ---------------------------------------------------------------------------------------
// DataError

TEST(DataErrorMessage, IsOneLineWithFileWhereAndExpected) {
  EXPECT_STREQ(DataError("a.csv", "line 3, column 7", "a finite number").what(),
               "a.csv: line 3, column 7: expected a finite number");
  EXPECT_STREQ(DataError("a.npy", "", "a regular file").what(), "a.npy: expected a regular file");
  EXPECT_STREQ(DataError("a\nb", "offset 2", "x\x1b[31m\xff").what(),
               "a\\x0ab: offset 2: expected x\\x1b[31m\\xff");
}

// ---------------------------------------------------------------------------------------
// IDX

TEST_F(ReadersTest, IdxGzipRoundTrips) {
  const std::string images = write_gzip("images.gz", kImages);
  const std::string labels = write_gzip("labels.gz", kLabels);
  const Dataset data = read_idx(images, labels);
  expect_pixels(data);
  EXPECT_EQ(data.source, images + ", " + labels);
}

TEST_F(ReadersTest, IdxUncompressedRoundTrips) {
  expect_pixels(read_idx(write("images", kImages), write_gzip("labels.gz", kLabels)));
}

TEST_F(ReadersTest, IdxOtherElementTypesRoundTrip) {
  std::string doubles;  // big-endian 64-bit floats
  for (const double value : {-1.5, 0.25, 1e-3, 3e38}) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, 8);
    doubles += big_endian32(static_cast<std::uint32_t>(bits >> 32)) +
               big_endian32(static_cast<std::uint32_t>(bits));
  }
  const std::string labels =
      idx('\x0C', {2}, big_endian32(static_cast<std::uint32_t>(-3)) + big_endian32(100000));
  const Dataset data =
      read_idx(write("images", idx('\x0E', {2, 2}, doubles)), write("labels", labels));
  ASSERT_EQ(data.num_features(), 2);
  EXPECT_EQ(data.features(0, 0), -1.5f);
  EXPECT_EQ(data.features(0, 1), 0.25f);
  EXPECT_EQ(data.features(1, 0), static_cast<float>(1e-3));
  EXPECT_EQ(data.features(1, 1), static_cast<float>(3e38));
  EXPECT_EQ(data.labels, (std::vector<double>{-3, 100000}));
}

TEST_F(ReadersTest, IdxTruncatedAtEveryPartIsAnErrorAtTheEnd) {
  const std::string labels = write_gzip("labels.gz", kLabels);
  const std::string magic = "a 4-byte IDX magic number (0x00000803 for images); the file ends here";
  const std::string data =
      "12 bytes of data from offset 16 (3 × 2 × 2 unsigned bytes); the file ends here";
  const std::vector<std::pair<std::size_t, std::string>> cuts = {
      {0, magic},
      {3, magic},
      {4, "the size of dimension 1 of 3 (4 bytes, big-endian); the file ends here"},
      {13, "the size of dimension 3 of 3 (4 bytes, big-endian); the file ends here"},
      {16, data},
      {27, data}};
  for (const auto& [cut, expected] : cuts) {
    const std::string images = write_gzip("images.gz", kImages.substr(0, cut));
    EXPECT_DATA_ERROR(read_idx(images, labels), images,
                      "offset " + std::to_string(cut) + " (decompressed)", expected);
  }
}

TEST_F(ReadersTest, IdxTrailingDataIsAnErrorAtItsOffset) {
  const std::string images = write("images", kImages + "x");
  EXPECT_DATA_ERROR(read_idx(images, write("labels", kLabels)), images, "offset 28",
                    "the end of the file after 12 bytes of data (3 × 2 × 2 unsigned bytes)");
}

TEST_F(ReadersTest, IdxTruncatedOrCorruptGzipStream) {
  const std::string labels = write("labels", kLabels);
  const std::string good = read_bytes(write_gzip("good.gz", kImages));
  const std::string cut = write("cut.gz", good.substr(0, good.size() - 10));
  const DataError truncated = error_of([&] { read_idx(cut, labels); });
  EXPECT_EQ(truncated.file, cut);
  EXPECT_EQ(truncated.where.rfind("offset ", 0), 0u) << truncated.where;
  EXPECT_EQ(truncated.expected, "more gzip data (the compressed file ends early)");

  std::string corrupt = good;
  corrupt[corrupt.size() - 8] ^= 0x55;  // the CRC-32 in the trailer
  // zlib checks a small stream's trailer before it hands over any data: the offset is where
  // reading stood when it found the fault.
  const std::string bad = write("bad.gz", corrupt);
  const DataError corrupted = error_of([&] { read_idx(bad, labels); });
  EXPECT_EQ(corrupted.file, bad);
  EXPECT_EQ(corrupted.where.rfind("offset ", 0), 0u) << corrupted.where;
  EXPECT_EQ(corrupted.expected, "valid gzip data (zlib: incorrect data check)");
}

// zlib's gzread took bytes after the last gzip member for the end of the data (issue 21,
// item 10): whatever follows the gzip data is refused at its offset in the file.
TEST_F(ReadersTest, GzipWithTrailingBytesIsRefusedAtTheirOffset) {
  const std::string labels = write("labels", kLabels);
  const std::string good = read_bytes(write_gzip("good.gz", kImages));
  const std::string where = "offset " + std::to_string(good.size());
  for (const std::string& tail : {std::string("junk"), std::string(7, '\0'), std::string("\x1f")}) {
    const std::string path = write("tail.gz", good + tail);
    EXPECT_DATA_ERROR(read_idx(path, labels), path, where,
                      "the end of the file after the gzip data (found " +
                          std::to_string(tail.size()) + " trailing bytes that are not gzip)");
  }
  const std::string text = read_bytes(write_gzip("data.csv.gz", "1,2\n3,4\n"));
  const std::string csv = write("tail.csv.gz", text + "5,6\n");
  EXPECT_DATA_ERROR(read_csv(csv), csv, "offset " + std::to_string(text.size()),
                    "the end of the file after the gzip data (found 4 trailing bytes that are "
                    "not gzip)");
  // A second member that is not valid gzip is a gzip error, not trailing bytes.
  const std::string broken = write("broken.gz", good + "\x1f\x8b\x01junk");
  EXPECT_EQ(
      error_of([&] { read_idx(broken, labels); }).expected.rfind("valid gzip data (zlib: ", 0), 0u);
}

// Members one after another (cat a.gz b.gz, or pigz's output) are one file's data.
TEST_F(ReadersTest, GzipOfSeveralMembersReadsAsTheirConcatenation) {
  const std::string first = read_bytes(write_gzip("first.gz", kImages.substr(0, 10)));
  const std::string empty = read_bytes(write_gzip("empty.gz", ""));
  const std::string second = read_bytes(write_gzip("second.gz", kImages.substr(10)));
  expect_pixels(read_idx(write("images.gz", first + empty + second), write("labels", kLabels)));
  const std::string csv =
      read_bytes(write_gzip("a.csv.gz", "1,2\n")) + read_bytes(write_gzip("b.csv.gz", "3,4\n"));
  EXPECT_EQ(read_csv(write("ab.csv.gz", csv)).labels, (std::vector<double>{2, 4}));
}

// A file that is not gzip-compressed and cannot be read is an I/O error, not "valid gzip data"
// (issue 21, item 10). Reading /proc/self/mem at offset 0 fails with EIO.
TEST_F(ReadersTest, UnreadableUncompressedFileIsAnIoErrorNotAGzipError) {
  const std::string mem = "/proc/self/mem";
  if (!fs::exists(mem)) GTEST_SKIP() << mem << " is absent";
  EXPECT_DATA_ERROR(read_csv(mem), mem, "offset 0", "a readable file (Input/output error)");
  EXPECT_DATA_ERROR(read_libsvm(mem), mem, "offset 0", "a readable file (Input/output error)");
}

TEST_F(ReadersTest, IdxWrongMagicNumbers) {
  const std::string labels = write("labels", kLabels);
  std::string bytes = kImages;
  bytes[0] = 1;
  const std::string first = write("first", bytes);
  EXPECT_DATA_ERROR(
      read_idx(first, labels), first, "offset 0",
      "an IDX magic number, which starts with two zero bytes (0x00000803 for images)");
  bytes = kImages;
  bytes[2] = 0x07;
  const std::string type = write("type", bytes);
  EXPECT_DATA_ERROR(read_idx(type, labels), type, "offset 2",
                    "an IDX type code: 0x08 (unsigned bytes), 0x09, 0x0B, 0x0C, 0x0D or 0x0E");
  const std::string images = write("images", kImages);
  EXPECT_DATA_ERROR(read_idx(labels, images), images, "offset 3",
                    "1 dimension for labels (magic 0x00000801), found 3");
  const std::string empty = write("empty", "");
  EXPECT_DATA_ERROR(read_idx(images, empty), empty, "offset 0",
                    "a 4-byte IDX magic number (0x00000801 for labels); the file ends here");
}

TEST_F(ReadersTest, IdxCountMismatch) {
  const std::string images = write_gzip("images.gz", kImages);
  const std::string labels = write_gzip("labels.gz", idx('\x08', {2}, std::string{1, 2}));
  EXPECT_DATA_ERROR(read_idx(images, labels), labels, "offset 4 (decompressed)",
                    "3 labels, one per image in " + images + ", found 2");
}

TEST_F(ReadersTest, IdxHostileSizesAreRefusedBeforeAllocating) {
  const std::string labels = write("labels", kLabels);
  const std::string zero = write("zero", idx('\x08', {3, 0, 2}, ""));
  EXPECT_DATA_ERROR(read_idx(zero, labels), zero, "offset 8",
                    "a size of at least 1 for dimension 2");
  const std::string huge = write("huge", idx('\x08', {65536, 65536}, kPixels));
  EXPECT_DATA_ERROR(
      read_idx(huge, labels), huge, "offset 8",
      "at most 2^31 values and 4 GiB in all (dimension 2 of size 65536 exceeds that)");
  // Just under the cap: 2 GiB promised, 12 bytes present. Reading stops at the data's end.
  const std::string lie = write("lie", idx('\x08', {32768, 256, 256}, kPixels));
  EXPECT_DATA_ERROR(read_idx(lie, labels), lie, "offset 28",
                    "2147483648 bytes of data from offset 16 (32768 × 256 × 256 unsigned bytes); "
                    "the file ends here");
}

TEST_F(ReadersTest, IdxNanPixelIsAnErrorAtItsOffset) {
  const std::string nan = big_endian32(0x7FC00000);
  const std::string one = big_endian32(0x3F800000);
  const std::string images = write("images", idx('\x0D', {2, 2}, one + one + one + nan));
  EXPECT_DATA_ERROR(read_idx(images, write("labels", idx('\x08', {2}, std::string{1, 2}))), images,
                    "offset 24", "a finite number within float range (element 3)");
}

TEST_F(ReadersTest, MissingFileOrFolderIsAnError) {
  const std::string labels = write("labels", kLabels);
  const std::string missing = (dir_ / "missing.gz").string();
  EXPECT_DATA_ERROR(read_idx(missing, labels), missing, "",
                    "a readable file (No such file or directory)");
  EXPECT_DATA_ERROR(read_idx(dir_.string(), labels), dir_.string(), "",
                    "a regular file, not a folder");
}

// ---------------------------------------------------------------------------------------
// LIBSVM

TEST_F(ReadersTest, LibsvmRoundTrips) {
  const std::string path = write("data.svm",
                                 "# a comment line\n"
                                 "+1 1:0.5 3:-2\r\n"
                                 "\n"
                                 "-1\t2:1e-3  4:7 # trailing comment\n"
                                 "   \n"
                                 "2.5\n"
                                 "0 4:3.25");
  const Dataset data = read_libsvm(path);
  EXPECT_EQ(data.source, path);
  FeatureMatrix expected = FeatureMatrix::Zero(4, 4);
  expected.row(0) << 0.5f, 0, -2, 0;
  expected.row(1) << 0, 1e-3f, 0, 7;
  expected.row(3) << 0, 0, 0, 3.25f;
  EXPECT_EQ(data.features, expected);
  EXPECT_EQ(data.labels, (std::vector<double>{1, -1, 2.5, 0}));
}

TEST_F(ReadersTest, LibsvmNumFeaturesWidensOrLimits) {
  const std::string path = write("data.svm", "1 1:1 3:2\n-1 2:4\n");
  EXPECT_EQ(read_libsvm(path, 10).num_features(), 10);
  EXPECT_EQ(read_libsvm(path, 3).num_features(), 3);
  EXPECT_DATA_ERROR(read_libsvm(path, 2), path, "line 1, column 7",
                    "an index of at most num_features = 2, found 3");
}

TEST_F(ReadersTest, LibsvmBadIndices) {
  const std::string zero = write("zero.svm", "1 1:1\n1 0:1\n");
  EXPECT_DATA_ERROR(read_libsvm(zero), zero, "line 2, column 3",
                    "an index of at least 1 (indices are 1-based), found 0");
  const std::string same = write("same.svm", "1 5:1 5:2\n");
  EXPECT_DATA_ERROR(read_libsvm(same), same, "line 1, column 7",
                    "an index greater than 5 (indices increase within a line), found 5");
  const std::string down = write("down.svm", "-1 2:1 7:1 3:1\n");
  EXPECT_DATA_ERROR(read_libsvm(down), down, "line 1, column 12",
                    "an index greater than 7 (indices increase within a line), found 3");
  const std::string negative = write("negative.svm", "1 -2:1\n");
  EXPECT_DATA_ERROR(read_libsvm(negative), negative, "line 1, column 3",
                    "index:value with a positive integer index, found '-2'");
  const std::string huge = write("huge.svm", "1 99999999999999999999:1\n");
  EXPECT_DATA_ERROR(read_libsvm(huge), huge, "line 1, column 3",
                    "an index of at most 2147483647, found '99999999999999999999'");
  const std::string colon = write("colon.svm", "1 3\n");
  EXPECT_DATA_ERROR(read_libsvm(colon), colon, "line 1, column 4",
                    "':' and a value after the index");
}

TEST_F(ReadersTest, LibsvmBadNumbers) {
  const std::string nan = write("nan.svm", "1 1:2\n1 1:nan\n");
  EXPECT_DATA_ERROR(read_libsvm(nan), nan, "line 2, column 5",
                    "a finite number (the value of index 1), found 'nan'");
  const std::string label = write("label.svm", "inf 1:2\n");
  EXPECT_DATA_ERROR(read_libsvm(label), label, "line 1, column 1",
                    "a finite number (the label), found 'inf'");
  const std::string word = write("word.svm", "yes 1:2\n");
  EXPECT_DATA_ERROR(read_libsvm(word), word, "line 1, column 1",
                    "a finite number (the label), found 'yes'");
  const std::string big = write("big.svm", "1 1:1e39\n");
  EXPECT_DATA_ERROR(read_libsvm(big), big, "line 1, column 5",
                    "a number within float range, |x| <= 3.4e38 (the value of index 1), found "
                    "'1e39'");
  const std::string empty = write("empty.svm", "1 1:\n");
  EXPECT_DATA_ERROR(read_libsvm(empty), empty, "line 1, column 5",
                    "a finite number (the value of index 1), found nothing");
}

// An integer label beyond 2^53 would round to its neighbour (two classes merged): refused.
// 2^53 itself and real-valued labels of any size are read as they are.
TEST_F(ReadersTest, IntegerLabelsMustBeExactAsDoubles) {
  const std::string rounded = write("rounded.svm", "1 1:2\n9007199254740993 1:1\n");
  EXPECT_DATA_ERROR(read_libsvm(rounded), rounded, "line 2, column 1",
                    "an integer label of magnitude at most 2^53 = 9007199254740992 (exact as a "
                    "double; the label), found '9007199254740993'");
  const std::string csv = write("rounded.csv", "1,2,-18014398509481985\n");
  EXPECT_DATA_ERROR(read_csv(csv), csv, "line 1, column 5",
                    "an integer label of magnitude at most 2^53 = 9007199254740992 (exact as a "
                    "double; field 3, the label), found '-18014398509481985'");
  const std::string exact = write("exact.svm", "9007199254740992 1:1\n-00007 1:2\n1e300 1:3\n");
  const Dataset data = read_libsvm(exact);
  EXPECT_EQ(data.labels[0], 9007199254740992.0);
  EXPECT_EQ(data.labels[1], -7.0);
  EXPECT_EQ(data.labels[2], 1e300);
}

TEST_F(ReadersTest, LibsvmEmptyFiles) {
  const std::string empty = write("empty.svm", "");
  EXPECT_DATA_ERROR(read_libsvm(empty), empty, "", "at least one sample (a line with a label)");
  const std::string comments = write("comments.svm", "# nothing\n\n  # here\n");
  EXPECT_DATA_ERROR(read_libsvm(comments), comments, "",
                    "at least one sample (a line with a label)");
  const std::string labels = write("labels.svm", "1\n-1\n");
  EXPECT_DATA_ERROR(read_libsvm(labels), labels, "",
                    "at least one feature (an index:value pair), or num_features > 0");
  EXPECT_EQ(read_libsvm(labels, 2).features, FeatureMatrix::Zero(2, 2));
}

// A tiny file must not make the reader allocate gigabytes of zeros (found by the fuzz test).
TEST_F(ReadersTest, LibsvmDenseSizeIsInProportionToTheFile) {
  const std::string path = write("wide.svm", "1 1:1\n-1 2:1 2000000000:1\n");
  EXPECT_DATA_ERROR(read_libsvm(path), path, "line 2, column 8",
                    "an index for which samples × features is at most 2^24 or 1024 per byte of "
                    "the file (26 bytes) unless num_features is given, found 2000000000 (2 "
                    "samples)");
  EXPECT_DATA_ERROR(read_libsvm(path, 2000000000), path, "",
                    "at most 2^31 feature values, found 2 samples × 2000000000 features");
  const Dataset wide = read_libsvm(write("ok.svm", "1 3:1 4000000:2\n"));
  EXPECT_EQ(wide.num_features(), 4000000);
  EXPECT_EQ(wide.features(0, 3999999), 2.0f);
}

TEST_F(ReadersTest, LibsvmGzipRoundTrips) {
  const Dataset data = read_libsvm(write_gzip("data.svm.gz", "1 2:3\n-1 1:-4\n"));
  EXPECT_EQ(data.features, (FeatureMatrix(2, 2) << 0, 3, -4, 0).finished());
  EXPECT_EQ(data.labels, (std::vector<double>{1, -1}));
}

// ---------------------------------------------------------------------------------------
// CSV

TEST_F(ReadersTest, CsvRoundTripsWithTheLabelAnywhere) {
  const std::string path = write("data.csv", "\xEF\xBB\xBF 1.5, -2 ,0\r\n\n3,4e-3,1\n");
  const Dataset last = read_csv(path);
  EXPECT_EQ(last.source, path);
  EXPECT_EQ(last.features, (FeatureMatrix(2, 2) << 1.5f, -2, 3, 4e-3f).finished());
  EXPECT_EQ(last.labels, (std::vector<double>{0, 1}));
  const Dataset first = read_csv(path, 0);
  EXPECT_EQ(first.features, (FeatureMatrix(2, 2) << -2, 0, 4e-3f, 1).finished());
  EXPECT_EQ(first.labels, (std::vector<double>{1.5, 3}));
  EXPECT_EQ(read_csv(path, -2).labels, (std::vector<double>{-2, 4e-3}));
}

TEST_F(ReadersTest, CsvHeaderIsDeclaredNotGuessed) {
  const std::string path = write("header.csv", "x,y,label\n1,2,+1\n3,4,-1\n");
  const Dataset data = read_csv(path, -1, true);
  EXPECT_EQ(data.features, (FeatureMatrix(2, 2) << 1, 2, 3, 4).finished());
  EXPECT_EQ(data.labels, (std::vector<double>{1, -1}));
  EXPECT_DATA_ERROR(
      read_csv(path), path, "line 1, column 1",
      "a finite number (field 1), found 'x'; if this line is a header, read with header = true");
  // pandas' header for unnamed columns is numeric: declared, it is skipped.
  const std::string numeric = write("numeric.csv", "0,1\n5,6\n");
  EXPECT_EQ(read_csv(numeric, -1, true).num_samples(), 1);
  EXPECT_EQ(read_csv(numeric).num_samples(), 2);
}

TEST_F(ReadersTest, CsvRaggedRows) {
  const std::string fewer = write("fewer.csv", "1,2,3\n4,5\n");
  EXPECT_DATA_ERROR(read_csv(fewer), fewer, "line 2, column 4",
                    "3 fields like line 1 (the first data line), found 2");
  const std::string more = write("more.csv", "\n1,2\n3,4,5\n");
  EXPECT_DATA_ERROR(read_csv(more), more, "line 3, column 5",
                    "2 fields like line 2 (the first data line), found more");
}

TEST_F(ReadersTest, CsvBadFields) {
  const std::string nan = write("nan.csv", "1,2\n3, nan\n");
  EXPECT_DATA_ERROR(read_csv(nan), nan, "line 2, column 4",
                    "a finite number (field 2, the label), found 'nan'");
  const std::string inf = write("inf.csv", "1,2\n-inf,3\n");
  EXPECT_DATA_ERROR(read_csv(inf), inf, "line 2, column 1",
                    "a finite number (field 1), found '-inf'");
  const std::string empty = write("empty_field.csv", "1,2,3\n4,,6\n");
  EXPECT_DATA_ERROR(read_csv(empty), empty, "line 2, column 3",
                    "a finite number (field 2), found nothing");
  const std::string quoted = write("quoted.csv", "1,\"2\"\n");
  EXPECT_DATA_ERROR(read_csv(quoted), quoted, "line 1, column 3",
                    "a finite number (field 2, the label), found '\"2\"'; if this line is a "
                    "header, read with header = true");
}

TEST_F(ReadersTest, CsvNumbersTooSmallReadAsZeroTooLargeAreErrors) {
  const std::string path = write("tiny.csv", "1e-400,-1e-400,0.5e-320,1\n");
  const Dataset data = read_csv(path);
  EXPECT_EQ(data.features, (FeatureMatrix(1, 3) << 0, 0, 0).finished());
  EXPECT_TRUE(std::signbit(data.features(0, 1)));
  const std::string huge = write("huge.csv", "1,2\n1e400,2\n");
  EXPECT_DATA_ERROR(read_csv(huge), huge, "line 2, column 1",
                    "a number within double range (field 1), found '1e400'");
  const std::string label = write("label.csv", "1,1e-320\n");
  EXPECT_EQ(read_csv(label).labels, (std::vector<double>{1e-320}));
}

TEST_F(ReadersTest, CsvShapeAndLabelColumn) {
  const std::string single = write("single.csv", "1\n2\n");
  EXPECT_DATA_ERROR(read_csv(single), single, "line 1, column 1",
                    "at least 2 fields (features and a label), found 1");
  const std::string path = write("data.csv", "1,2,3\n");
  EXPECT_DATA_ERROR(read_csv(path, 3), path, "line 1, column 1",
                    "a label column from -3 to 2 for 3 fields, found label_column = 3");
  EXPECT_DATA_ERROR(read_csv(path, -4), path, "line 1, column 1",
                    "a label column from -3 to 2 for 3 fields, found label_column = -4");
}

TEST_F(ReadersTest, CsvEmptyFiles) {
  const std::string empty = write("empty.csv", "");
  EXPECT_DATA_ERROR(read_csv(empty), empty, "", "at least one data line");
  EXPECT_DATA_ERROR(read_csv(empty, -1, true), empty, "",
                    "a header line (header = true), found an empty file");
  const std::string header = write("header.csv", "a,b\n\n");
  EXPECT_DATA_ERROR(read_csv(header, -1, true), header, "",
                    "at least one data line after the header");
}

// ---------------------------------------------------------------------------------------
// .npy

const std::vector<float> kFloats = {1.5f, -2, 0, 3e38f, 1e-40f, 7};
const std::string kFeatures = npy("<f4", "(3, 2)", raw_bytes(kFloats));
const std::string kIntLabels = npy("<i8", "(3,)", raw_bytes(std::vector<std::int64_t>{-1, 0, 9}));

TEST_F(ReadersTest, NpyRoundTripsEveryDtypeAndVersion) {
  const Dataset floats = read_npy(write("x.npy", kFeatures), write("y.npy", kIntLabels));
  EXPECT_EQ(floats.features, (FeatureMatrix(3, 2) << 1.5f, -2, 0, 3e38f, 1e-40f, 7).finished());
  EXPECT_EQ(floats.labels, (std::vector<double>{-1, 0, 9}));

  const std::vector<double> doubles = {0.1, -0.25};
  const Dataset v2 = read_npy(write("x2.npy", npy("<f8", "(1, 2)", raw_bytes(doubles), 2)),
                              write("y2.npy", npy("<f8", "(1, 1)", raw_bytes(doubles).substr(8))));
  EXPECT_EQ(v2.features, (FeatureMatrix(1, 2) << 0.1f, -0.25f).finished());
  EXPECT_EQ(v2.labels, (std::vector<double>{-0.25}));

  const Dataset v3 =
      read_npy(write_gzip("x3.npy.gz", npy("|u1", "(2, 1)", std::string{0, '\xff'}, 3)),
               write("y3.npy", npy("<i4", "(2,)", raw_bytes(std::vector<std::int32_t>{5, -5}))));
  EXPECT_EQ(v3.features, (FeatureMatrix(2, 1) << 0, 255).finished());
  EXPECT_EQ(v3.labels, (std::vector<double>{5, -5}));
}

TEST_F(ReadersTest, NpyTruncatedAtEveryPartIsAnErrorAtTheEnd) {
  const std::string labels = write("y.npy", kIntLabels);
  const std::vector<std::pair<std::size_t, std::string>> cuts = {
      {0, "the NumPy magic string \\x93NUMPY and a format version; the file ends here"},
      {7, "the NumPy magic string \\x93NUMPY and a format version; the file ends here"},
      {9, "the header length (2 bytes); the file ends here"},
      {40, "a header of 118 bytes from offset 10; the file ends here"},
      {128, "24 bytes of data from offset 128 (3 × 2 float32); the file ends here"},
      {151, "24 bytes of data from offset 128 (3 × 2 float32); the file ends here"}};
  for (const auto& [cut, expected] : cuts) {
    const std::string path = write("x.npy", kFeatures.substr(0, cut));
    EXPECT_DATA_ERROR(read_npy(path, labels), path, "offset " + std::to_string(cut), expected);
  }
  const std::string longer = write("long.npy", kFeatures + "\x01");
  EXPECT_DATA_ERROR(read_npy(longer, labels), longer, "offset 152",
                    "the end of the file after 24 bytes of data (3 × 2 float32)");
}

TEST_F(ReadersTest, NpyWrongMagicVersionOrDtype) {
  const std::string labels = write("y.npy", kIntLabels);
  const std::string magic = write("magic.npy", "\x93NUMPZ" + kFeatures.substr(6));
  EXPECT_DATA_ERROR(read_npy(magic, labels), magic, "offset 0",
                    "the NumPy magic string \\x93NUMPY");
  std::string bytes = kFeatures;
  bytes[6] = 4;
  const std::string version = write("version.npy", bytes);
  EXPECT_DATA_ERROR(read_npy(version, labels), version, "offset 6",
                    "format version 1.0, 2.0 or 3.0, found 4.0");
  const std::string big = write("big.npy", npy(">f4", "(3, 2)", raw_bytes(kFloats)));
  EXPECT_DATA_ERROR(read_npy(big, labels), big, "offset 20",
                    "the dtype '<f4', '<f8' or '|u1', found '>f4'");
  const std::string ints = write("ints.npy", npy("<i8", "(3, 1)", std::string(24, '\0')));
  EXPECT_DATA_ERROR(read_npy(ints, labels), ints, "offset 20",
                    "the dtype '<f4', '<f8' or '|u1', found '<i8'");
  const std::string text = write("text.npy", npy("<U3", "(3,)", std::string(36, '\0')));
  EXPECT_DATA_ERROR(read_npy(write("x.npy", kFeatures), text), text, "offset 20",
                    "the dtype '<f4', '<f8', '|u1', '<i4' or '<i8', found '<U3'");
}

TEST_F(ReadersTest, NpyFortranOrderIsRefused) {
  const std::string path = write("f.npy", npy("<f4", "(3, 2)", raw_bytes(kFloats), 1, "True"));
  EXPECT_DATA_ERROR(read_npy(path, write("y.npy", kIntLabels)), path, "offset 44",
                    "'fortran_order': False (C order; save with np.ascontiguousarray)");
}

TEST_F(ReadersTest, NpyShapesAndCounts) {
  const std::string labels = write("y.npy", kIntLabels);
  const std::string cube = write("cube.npy", npy("<f4", "(3, 1, 2)", raw_bytes(kFloats)));
  EXPECT_DATA_ERROR(read_npy(cube, labels), cube, "offset 60",
                    "a shape (N, d) with sizes of at least 1, found (3, 1, 2)");
  const std::string one = write("one.npy", npy("<f4", "(3)", raw_bytes(kFloats)));
  EXPECT_DATA_ERROR(read_npy(one, labels), one, "offset 62",
                    "',' before ')': a 1-tuple is written (N,)");
  const std::string huge =
      write("huge.npy", npy("<f4", "(4294967296, 4294967296)", raw_bytes(kFloats)));
  EXPECT_DATA_ERROR(read_npy(huge, labels), huge, "offset 60",
                    "at most 2^31 values and 4 GiB of data, found (4294967296, 4294967296)");
  const std::string x = write("x.npy", kFeatures);
  const std::string two = write("two.npy", npy("|u1", "(2,)", std::string(2, '\1')));
  EXPECT_DATA_ERROR(read_npy(x, two), two, "offset 60",
                    "3 labels, one per row of " + x + ", found 2");
  const std::string wide = write("wide.npy", npy("|u1", "(3, 2)", std::string(6, '\1')));
  EXPECT_DATA_ERROR(read_npy(x, wide), wide, "offset 60",
                    "a shape (N,) or (N, 1) with sizes of at least 1, found (3, 2)");
}

TEST_F(ReadersTest, NpyHeaderDictionaryIsChecked) {
  const std::string labels = write("y.npy", kIntLabels);
  auto with_header = [&](const std::string& name, std::string header) {
    header.append(117 - header.size(), ' ') += '\n';
    return write(name, std::string("\x93NUMPY\x01\x00\x76\x00", 10) + header + raw_bytes(kFloats));
  };
  const std::string missing = with_header("missing.npy", "{'descr': '<f4', 'shape': (3, 2)}");
  EXPECT_DATA_ERROR(read_npy(missing, labels), missing, "offset 10",
                    "the key 'fortran_order' in the header dictionary");
  const std::string extra =
      with_header("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'x': 1}");
  EXPECT_DATA_ERROR(read_npy(extra, labels), extra, "offset 51",
                    "only the keys 'descr', 'fortran_order' and 'shape', found 'x'");
  const std::string twice =
      with_header("twice.npy", "{\"descr\": '<f4', 'descr': '<f4', 'fortran_order': False}");
  EXPECT_DATA_ERROR(read_npy(twice, labels), twice, "offset 27",
                    "each key once, found 'descr' again");
  const std::string open = with_header("open.npy", "{'descr': '<f4");
  EXPECT_DATA_ERROR(read_npy(open, labels), open, "offset 127",
                    "a closing quote (no escapes or line breaks)");
  const std::string after =
      with_header("after.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2)} x");
  EXPECT_DATA_ERROR(read_npy(after, labels), after, "offset 68",
                    "only spaces and a newline after the header dictionary");
  const std::string long_header =
      write("long.npy", std::string("\x93NUMPY\x02\x00\x00\x00\x20\x00", 12));
  EXPECT_DATA_ERROR(read_npy(long_header, labels), long_header, "offset 8",
                    "a header length of at most 1 MiB, found 2097152 bytes");
}

TEST_F(ReadersTest, NpyNanFeatureIsAnErrorAtItsOffset) {
  std::vector<float> values = kFloats;
  values[3] = std::numeric_limits<float>::quiet_NaN();
  const std::string path = write("nan.npy", npy("<f4", "(3, 2)", raw_bytes(values)));
  EXPECT_DATA_ERROR(read_npy(path, write("y.npy", kIntLabels)), path, "offset 140",
                    "a finite number within float range (element 3)");
  const std::string inf =
      write("inf.npy", npy("<f8", "(1, 1)", raw_bytes(std::vector<double>{1e300})));
  EXPECT_DATA_ERROR(read_npy(inf, write("y1.npy", npy("|u1", "(1,)", "\x01"))), inf, "offset 128",
                    "a finite number within float range (element 0)");
}

// Values are read a chunk (1 MiB) at a time and checked a block at a time: a bad value far
// into the file, past the first chunk, is still found at its own offset, plain or compressed,
// and values on both sides of a chunk's edge arrive intact.
TEST_F(ReadersTest, NpyBadValuePastTheFirstChunkIsAnErrorAtItsOffset) {
  constexpr std::size_t kRows = 1000, kColumns = 300;  // 1.2 MB of float32
  std::vector<float> values(kRows * kColumns);
  for (std::size_t k = 0; k < values.size(); ++k) values[k] = static_cast<float>(k % 977) - 3.5f;
  const std::string labels =
      write("y.npy", npy("<i8", "(1000,)", raw_bytes(std::vector<std::int64_t>(kRows, 1))));
  const std::string good = npy("<f4", "(1000, 300)", raw_bytes(values));
  for (const std::string& path : {write("x.npy", good), write_gzip("x.npy.gz", good)}) {
    const Dataset data = read_npy(path, labels);
    EXPECT_EQ(std::vector<float>(data.features.data(), data.features.data() + values.size()),
              values);
  }
  constexpr std::size_t kBad = 262144 + 1029;  // in the second chunk, the second block of it
  values[kBad] = -std::numeric_limits<float>::infinity();
  const std::string bad = npy("<f4", "(1000, 300)", raw_bytes(values));
  const std::string offset = "offset " + std::to_string(128 + 4 * kBad);
  const std::string expected = "a finite number within float range (element 263173)";
  const std::string plain = write("bad.npy", bad);
  EXPECT_DATA_ERROR(read_npy(plain, labels), plain, offset, expected);
  const std::string compressed = write_gzip("bad.npy.gz", bad);
  EXPECT_DATA_ERROR(read_npy(compressed, labels), compressed, offset + " (decompressed)", expected);
}

// A bad value is reported only once both files are known to be whole and to agree: a labels
// file that does not fit is what the message names first, as when values were converted last.
TEST_F(ReadersTest, NpyLabelsThatDoNotFitAreNamedBeforeABadFeatureValue) {
  std::vector<float> values = kFloats;
  values[0] = std::numeric_limits<float>::quiet_NaN();
  const std::string features = write("nan.npy", npy("<f4", "(3, 2)", raw_bytes(values)));
  const std::string two =
      write("y.npy", npy("<i8", "(2,)", raw_bytes(std::vector<std::int64_t>{1, 2})));
  EXPECT_DATA_ERROR(read_npy(features, two), two, "offset 60",
                    "3 labels, one per row of " + features + ", found 2");
  const std::string cut = write("cut.npy", kIntLabels.substr(0, 140));
  EXPECT_DATA_ERROR(read_npy(features, cut), cut, "offset 140",
                    "24 bytes of data from offset 128 (3 int64); the file ends here");
}

// A plain file is sized from the file system before its data is read: a header promising
// 2^30 floats (4 GiB) in a file of 24 data bytes is refused where the file ends, before the
// matrix is allocated.
TEST_F(ReadersTest, PlainNpyShorterThanItsHeaderIsRefusedBeforeAllocating) {
  const std::string path = write("lie.npy", npy("<f4", "(32768, 32768)", raw_bytes(kFloats)));
  EXPECT_DATA_ERROR(read_npy(path, write("y.npy", kIntLabels)), path, "offset 152",
                    "4294967296 bytes of data from offset 128 (32768 × 32768 float32); the file "
                    "ends here");
}

// A file over the 4 GiB cap is refused from its size, before anything is read (a sparse file:
// no disk space is used).
TEST_F(ReadersTest, FilesOverFourGibAreRefused) {
  const std::string path = write("huge.npy", kFeatures);
  std::error_code error;
  fs::resize_file(path, (std::uintmax_t{1} << 32) + 1, error);
  if (error) GTEST_SKIP() << "cannot make a sparse 4 GiB file here: " << error.message();
  EXPECT_DATA_ERROR(read_npy(path, write("y.npy", kIntLabels)), path, "",
                    "a file of at most 4 GiB, found 4294967297 bytes");
}

// ---------------------------------------------------------------------------------------
// Sizes known before values are read (issue 21, item 3)

// A check that keeps the shape and refuses, so the test sees what the reader would have
// allocated and that it stopped before.
struct RefusingCheck {
  std::optional<DatasetShape> seen;
  ShapeCheck check() {
    return [this](const DatasetShape& shape) {
      seen = shape;
      throw DataError(shape.file, "", "refused by the test");
    };
  }
};

void expect_shape(const std::optional<DatasetShape>& seen, const std::string& file,
                  std::uint64_t samples, std::uint64_t features) {
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->file, file);
  EXPECT_EQ(seen->samples, samples);
  EXPECT_EQ(seen->features, features);
}

TEST_F(ReadersTest, EveryReaderHandsItsShapeToTheCheckBeforeReadingTheValues) {
  RefusingCheck idx_check;
  const std::string images = write_gzip("images.gz", kImages);
  EXPECT_THROW(read_idx(images, write("labels", kLabels), idx_check.check()), DataError);
  expect_shape(idx_check.seen, images, 3, 4);
  EXPECT_EQ(idx_check.seen->reading_bytes, 12u + 3 * 8);  // the pixels, and 8 bytes a label
  RefusingCheck npy_check;
  const std::string features = write("x.npy", kFeatures);
  EXPECT_THROW(read_npy(features, write("y.npy", kIntLabels), npy_check.check()), DataError);
  expect_shape(npy_check.seen, features, 3, 2);
  EXPECT_EQ(npy_check.seen->reading_bytes, 3u * 8);  // float32 features go straight to the matrix
  RefusingCheck libsvm_check;
  const std::string svm = write("data.svm", "\xEF\xBB\xBF# c\r\n1 2:3 #x 9:1\r\n\n -1\t1:-4\r\n");
  EXPECT_THROW(read_libsvm(svm, 0, libsvm_check.check()), DataError);
  expect_shape(libsvm_check.seen, svm, 2, 2);
  RefusingCheck csv_check;
  const std::string csv = write("data.csv", "a,b,c\n\n1,2,3\r\n \t\n4,5,6");
  EXPECT_THROW(read_csv(csv, -1, true, csv_check.check()), DataError);
  expect_shape(csv_check.seen, csv, 2, 2);
  // A check that lets the file pass changes nothing.
  const auto pass = [](const DatasetShape&) {};
  EXPECT_EQ(read_libsvm(svm, 0, pass).features, (FeatureMatrix(2, 2) << 0, 3, -4, 0).finished());
  EXPECT_EQ(read_csv(csv, -1, true, pass).labels, (std::vector<double>{3, 6}));
}

// The bombs of issue 21: a file of a few bytes to a few MB that promised gigabytes was read
// until the allocation failed. Each is now sized first: the first pass over text holds no line.
TEST_F(ReadersTest, SmallFilesThatPromiseGigabytesAreSizedBeforeAnythingIsAllocated) {
  RefusingCheck wide;  // within the sparse-size rule: 1 × 2·10^9 values for 2 MiB of file
  const std::string svm =
      write("wide.svm", "1 2000000000:1\n#" + std::string(std::size_t{2} << 20, 'x') + "\n");
  EXPECT_THROW(read_libsvm(svm, 0, wide.check()), DataError);
  expect_shape(wide.seen, svm, 1, 2000000000);
  RefusingCheck line;  // one line of 2^21 fields, gzip-compressed to a few kB
  std::string fields;
  for (int k = 0; k < (1 << 21); ++k) fields += "0,";
  const std::string csv = write_gzip("line.csv.gz", fields + "1\n");
  EXPECT_THROW(read_csv(csv, -1, false, line.check()), DataError);
  expect_shape(line.seen, csv, 1, 1u << 21);
  EXPECT_GE(line.seen->reading_bytes, 2 * fields.size());  // the line, as the reader will hold it
  RefusingCheck npy_check;  // a header promising 2^30 floats (4 GiB, the cap)
  const std::string npy_path = write("big.npy", npy("<f4", "(32768, 32768)", ""));
  EXPECT_THROW(read_npy(npy_path, write("y.npy", kIntLabels), npy_check.check()), DataError);
  expect_shape(npy_check.seen, npy_path, 32768, 32768);
}

// ---------------------------------------------------------------------------------------
// The Debian datasets

const std::string kFashion = "/usr/share/datasets/fashion-mnist/";
const std::string kHeartScale = "/usr/share/doc/liblinear-tools/examples/heart_scale";

void expect_fashion(const std::string& split, std::int64_t samples) {
  const std::string images = kFashion + split + "-images-idx3-ubyte.gz";
  const std::string labels = kFashion + split + "-labels-idx1-ubyte.gz";
  if (!fs::exists(images) || !fs::exists(labels))
    GTEST_SKIP() << images << " is absent: apt-get install dataset-fashion-mnist";
  const auto start = std::chrono::steady_clock::now();
  const Dataset data = read_idx(images, labels);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "read " << split << " (" << samples << " × 784) in " << seconds << " s\n";
  ASSERT_EQ(data.num_samples(), samples);
  ASSERT_EQ(data.num_features(), 784);
  std::array<std::int64_t, 10> per_class{};
  for (const double label : data.labels) {
    ASSERT_TRUE(label >= 0 && label <= 9 && label == std::floor(label)) << label;
    ++per_class[static_cast<std::size_t>(label)];
  }
  for (const std::int64_t count : per_class) EXPECT_EQ(count, samples / 10);
  EXPECT_EQ(data.features.minCoeff(), 0.0f);
  EXPECT_EQ(data.features.maxCoeff(), 255.0f);
  EXPECT_TRUE((data.features.array() == data.features.array().floor()).all());
}

TEST(DebianData, FashionMnistTrain) { expect_fashion("train", 60000); }
TEST(DebianData, FashionMnistTest) { expect_fashion("t10k", 10000); }

TEST(DebianData, HeartScale) {
  if (!fs::exists(kHeartScale))
    GTEST_SKIP() << kHeartScale << " is absent: apt-get install liblinear-tools";
  const Dataset data = read_libsvm(kHeartScale);
  ASSERT_EQ(data.num_samples(), 270);
  ASSERT_EQ(data.num_features(), 13);
  EXPECT_EQ(std::count(data.labels.begin(), data.labels.end(), 1.0), 120);
  EXPECT_EQ(std::count(data.labels.begin(), data.labels.end(), -1.0), 150);
  // The first line: "+1 1:0.708333 2:1 3:1 4:-0.320755 ... 10:-0.225806 12:1 13:-1".
  EXPECT_EQ(data.labels[0], 1.0);
  EXPECT_EQ(data.features(0, 0), 0.708333f);
  EXPECT_EQ(data.features(0, 3), -0.320755f);
  EXPECT_EQ(data.features(0, 10), 0.0f);
  EXPECT_EQ(data.features(0, 12), -1.0f);
  EXPECT_LE(data.features.maxCoeff(), 1.0f);
  EXPECT_GE(data.features.minCoeff(), -1.0f);
}

}  // namespace
}  // namespace istlab
