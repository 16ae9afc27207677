#pragma once
// Dataset readers: IDX (MNIST / Fashion-MNIST, gzip-compressed as distributed), LIBSVM /
// svmlight text, numeric CSV and NumPy .npy. Every file is treated as hostile: sizes are
// checked before anything is allocated, every multiplication is checked for overflow, the
// data must be exactly as long as the header promises, and features must be finite floats.
// A malformed file throws DataError naming the file, where (for binary formats "offset N",
// with "(decompressed)" when the file is gzip-compressed; for text "line L, column C", the
// column counted in bytes from 1) and what was expected there.
//
// Limits, the same for every format: a file of at most 4 GiB (and at most 4 GiB once
// decompressed), and at most 2^31 feature values in the N × d matrix.
//
// Every reader also accepts its file gzip-compressed: the gzip magic bytes (1f 8b) are
// detected, the name does not matter; bytes after the last gzip member are an error.
//
// Memory: each reader learns the dataset's shape before it allocates anything of that size
// (IDX and .npy from their headers; LIBSVM and CSV from a first pass over the text that
// counts samples and features and keeps no values, then a second that reads them into the
// matrix) and hands it to `check`, which may refuse the file by throwing. The catalog's
// check compares it with the memory available (catalog.hpp).

#include <cstdint>
#include <functional>
#include <string>

#include "istlab/data/dataset.hpp"

namespace istlab {

// A dataset's size as its file gives it, before its values are read.
struct DatasetShape {
  std::string file;  // the features file
  std::uint64_t samples = 0;
  std::uint64_t features = 0;
  // What the reader holds besides the dataset while it reads: the raw bytes of a binary
  // file's arrays, the text reader's buffer (its longest line, twice, as the buffer grows).
  std::uint64_t reading_bytes = 0;
};
// Called once with the shape, before anything of its size is allocated; throws to refuse.
using ShapeCheck = std::function<void(const DatasetShape&)>;

// IDX files as distributed by MNIST and Fashion-MNIST (the images file's magic 0x00000803:
// unsigned bytes, 3 dimensions). Any IDX element type (unsigned/signed byte, 16/32-bit
// integers, float, double; big-endian) and any number of dimensions >= 1 are read; each
// image is flattened to a row in C order (28 × 28 → 784 features). The labels file must be
// one-dimensional (0x00000801 for unsigned bytes) with one label per image.
Dataset read_idx(const std::string& images_path, const std::string& labels_path,
                 const ShapeCheck& check = {});

// LIBSVM / svmlight text: one sample per line, "label index:value index:value ...", indices
// 1-based and strictly increasing within a line, labels and values finite numbers (a label
// may be ±1, a class index or a real target). Blank lines and everything from '#' to the end
// of a line are skipped; a line with a label and no features is an all-zero sample. The
// number of features is the largest index in the file, or `num_features` when it is > 0 (an
// index above it is then an error). "qid:" tokens are not supported.
Dataset read_libsvm(const std::string& path, std::int64_t num_features = 0,
                    const ShapeCheck& check = {});

// Numeric CSV: comma-separated, every line with the same number of fields (at least two),
// every field a finite number (spaces around a field are allowed; no quoting). One field is
// the label: `label_column` counts from 0, or from the end when negative (-1, the default,
// is the last field). Blank lines are skipped. A header line is not guessed: pass
// `header = true` to skip the first line (otherwise a non-numeric first line is an error
// that says so), because a header of numbers, such as pandas writes for unnamed columns
// ("0,1,2,..."), cannot be told from data.
Dataset read_csv(const std::string& path, int label_column = -1, bool header = false,
                 const ShapeCheck& check = {});

// NumPy .npy files (format versions 1.0, 2.0 and 3.0), C order only. Features: a 2-D array
// (N, d) of '<f4', '<f8' or '|u1'. Labels: shape (N,) or (N, 1) of those dtypes or '<i4',
// '<i8' (integers of magnitude at most 2^53, so that they are exact as doubles). Only the
// three keys of the header dictionary are accepted ('descr', 'fortran_order', 'shape').
Dataset read_npy(const std::string& features_path, const std::string& labels_path,
                 const ShapeCheck& check = {});

}  // namespace istlab
