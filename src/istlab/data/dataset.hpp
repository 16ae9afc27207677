#pragma once
// A dataset as the readers return it: N samples of d features and one label each. Read once
// per sweep and shared read-only by every cell. Features are kept as float: Fashion-MNIST's
// 70,000 × 784 values take 220 MB, not 440 MB; problems built from them compute in double.

#include <Eigen/Core>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace istlab {

using FeatureMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Dataset {
  std::string source;          // the file(s) it was read from, for messages and the manifest
  FeatureMatrix features;      // N × d, one sample per row
  std::vector<double> labels;  // N labels as read: class indices 0..C-1, ±1, or real targets

  std::int64_t num_samples() const { return features.rows(); }
  std::int64_t num_features() const { return features.cols(); }
};

// A file that is not what its format promises (exit 2): the file, where (a byte offset or a
// line and column) and what was expected there.
class DataError : public std::runtime_error {
 public:
  DataError(std::string file, std::string where, std::string expected);
  std::string file;
  std::string where;     // "offset 16", "line 3, column 7", or "" for the file as a whole
  std::string expected;  // "the magic number 0x00000803", "an index greater than 5"
};

}  // namespace istlab
