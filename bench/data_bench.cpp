// The data path of least_squares problems (issue 13), one thread:
//   BM_Gemm/d:<d>/real_time               C = A·B with d×d doubles (Eigen): this machine's dense
//                                         rate in the same run, the reference for the Gram
//   BM_Gram/fashion_mnist/n:<n>/real_time every worker's Gram and moment (accumulate_gram) for
//                                         Fashion-MNIST's 60,000 training samples (d = 784,
//                                         unit scale) split iid among n workers, one worker
//                                         after another: one core's rate (a sweep runs the
//                                         workers in parallel)
//   BM_ReadIdx/fashion_mnist/real_time    read_idx of the training images and labels (.gz)
//   BM_PrepareNpy/<scale>/real_time       a sweep's preparation of a 60,000 × 784 float32 .npy
//                                         and its int64 labels, from the page cache: read,
//                                         scaled (none, unit or standardize_all) and
//                                         fingerprinted through a fresh DatasetCache; bytes
//                                         per second count the two files' bytes
// flops_per_second counts useful flops: 2·d³ for C = A·B; N·d·(d+1) + 2·N·d for the Grams (the
// lower triangle with its diagonal, a multiply and an add per entry and sample, plus Σ a_r y_r;
// the mirrored upper triangle is a copy). scripts/bench.sh reports Gram ÷ the run's best GEMM.

#include <unistd.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "bench_problems.hpp"
#include "istlab/data/catalog.hpp"
#include "istlab/data/readers.hpp"
#include "istlab/data/split.hpp"
#include "istlab/problem/least_squares.hpp"

namespace istlab::bench {
namespace {

// The catalog's fashion_mnist files (src/istlab/data/catalog.cpp).
constexpr const char* kImagesPath = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
constexpr const char* kLabelsPath = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
constexpr const char* kMissingDataset =
    "Fashion-MNIST is not installed (/usr/share/datasets/fashion-mnist/*.gz): install Debian's "
    "dataset-fashion-mnist (scripts/setup.sh does)";
constexpr std::uint64_t kSplitSeed = 1;  // any: an iid split's cost does not depend on it

bool dataset_installed() {
  std::error_code error;
  return std::filesystem::exists(kImagesPath, error) && std::filesystem::exists(kLabelsPath, error);
}

// Loaded once for every BM_Gram run, as a sweep loads it once (DatasetCache).
struct LoadedDataset {
  Dataset dataset;       // features scaled onto [0, 1] (the values do not change the speed)
  Vector targets;        // the labels as numbers (least_squares' `label` target)
  LabelClasses classes;  // what the split reads
  std::string error;     // why loading failed; empty when it did not
};

const LoadedDataset& fashion_mnist() {
  static const LoadedDataset loaded = [] {
    LoadedDataset result;
    if (!dataset_installed()) {
      result.error = kMissingDataset;
      return result;
    }
    try {
      DatasetRequest request;
      request.name = "fashion_mnist";
      request.scale = "unit";
      result.dataset = preprocess(read_raw_dataset(request), request);
      const auto& labels = result.dataset.labels;
      result.targets =
          Eigen::Map<const Vector>(labels.data(), static_cast<Eigen::Index>(labels.size()));
      result.classes = label_classes(result.dataset, kMaxClasses);
    } catch (const std::exception& error) {
      result.error = std::string("Fashion-MNIST could not be loaded: ") + error.what();
    }
    return result;
  }();
  return loaded;
}

void set_flop_counters(benchmark::State& state, double flops_per_iteration) {
  state.counters["flops_per_iteration"] = flops_per_iteration;
  state.counters["flops_per_second"] = benchmark::Counter(
      flops_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Gemm(benchmark::State& state) {
  const auto dim = static_cast<Eigen::Index>(state.range(0));
  const DenseMatrix a = DenseMatrix::Random(dim, dim);
  const DenseMatrix b = DenseMatrix::Random(dim, dim);
  DenseMatrix c = DenseMatrix::Zero(dim, dim);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const auto d = static_cast<double>(dim);
  set_flop_counters(state, 2.0 * d * d * d);
}

void BM_Gram(benchmark::State& state) {
  const LoadedDataset& data = fashion_mnist();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  const int workers = static_cast<int>(state.range(0));
  const auto samples_of_worker =
      split_samples(data.classes.class_of_sample, static_cast<int>(data.classes.values.size()),
                    workers, SplitSpec{}, kSplitSeed);
  const Eigen::Index dim = data.dataset.num_features();
  // Allocated and touched before timing, as a sweep's per-worker matrices are.
  std::vector<DenseMatrix> grams(workers, DenseMatrix::Zero(dim, dim));
  std::vector<Vector> moments(workers, Vector::Zero(dim));
  for (auto _ : state) {
    for (int worker = 0; worker < workers; ++worker) {
      accumulate_gram(data.dataset.features, data.targets, samples_of_worker[worker], grams[worker],
                      moments[worker]);
      benchmark::DoNotOptimize(grams[worker].data());
      benchmark::DoNotOptimize(moments[worker].data());
    }
    benchmark::ClobberMemory();
  }
  // iid covers every sample once.
  const auto samples = static_cast<double>(data.dataset.num_samples());
  const auto d = static_cast<double>(dim);
  set_flop_counters(state, samples * d * (d + 1.0) + 2.0 * samples * d);
  state.counters["samples"] = samples;
  state.counters["d"] = d;
}

void BM_ReadIdx(benchmark::State& state) {
  if (!dataset_installed()) {
    state.SkipWithError(kMissingDataset);
    return;
  }
  const auto compressed = static_cast<double>(std::filesystem::file_size(kImagesPath) +
                                              std::filesystem::file_size(kLabelsPath));
  double samples = 0.0;
  double features = 0.0;
  for (auto _ : state) {
    const Dataset dataset = read_idx(kImagesPath, kLabelsPath);
    benchmark::DoNotOptimize(dataset.features.data());
    samples = static_cast<double>(dataset.num_samples());
    features = static_cast<double>(dataset.num_features());
  }
  // One byte per pixel and per label, after the headers: a 4-byte magic number and 4 bytes per
  // dimension (images: 3 dimensions, labels: 1).
  const double decompressed = samples * features + 16.0 + samples + 8.0;
  const auto loads = static_cast<double>(state.iterations());
  using benchmark::Counter;
  state.counters["compressed_bytes"] = compressed;
  state.counters["decompressed_bytes"] = decompressed;
  state.counters["compressed_bytes_per_second"] = Counter(compressed * loads, Counter::kIsRate);
  state.counters["decompressed_bytes_per_second"] = Counter(decompressed * loads, Counter::kIsRate);
}

// A 60,000 × 784 float32 .npy (Fashion-MNIST's training shape, values uniform on [0, 1)) and
// its int64 labels 0..9, written once into a temporary folder and removed at exit.
class NpyFiles {
 public:
  static constexpr std::int64_t kSamples = 60000;
  static constexpr std::int64_t kFeatures = 784;

  NpyFiles() {
    folder_ =
        std::filesystem::temp_directory_path() / ("istlab_bench_npy_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
    std::mt19937 generator(1);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> values(static_cast<std::size_t>(kSamples * kFeatures));
    for (float& value : values) value = uniform(generator);
    std::vector<std::int64_t> labels(static_cast<std::size_t>(kSamples));
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 10);
    write(features(), "<f4", "(60000, 784)", values);
    write(labels_path(), "<i8", "(60000,)", labels);
  }
  ~NpyFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
  }
  NpyFiles(const NpyFiles&) = delete;
  NpyFiles& operator=(const NpyFiles&) = delete;

  std::string features() const { return (folder_ / "features.npy").string(); }
  std::string labels_path() const { return (folder_ / "labels.npy").string(); }
  double bytes() const {
    return static_cast<double>(std::filesystem::file_size(features()) +
                               std::filesystem::file_size(labels_path()));
  }

 private:
  // Format 1.0: magic, version, a 2-byte header length, the header padded with spaces to a
  // multiple of 64 bytes in all and ended by a newline, then the values.
  template <typename T>
  static void write(const std::string& path, const std::string& descr, const std::string& shape,
                    const std::vector<T>& values) {
    std::string header =
        "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    header.append(63 - (10 + header.size()) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary);
    out.write("\x93NUMPY\x01\x00", 8);
    const char length[2] = {static_cast<char>(header.size() & 0xff),
                            static_cast<char>(header.size() >> 8)};
    out.write(length, 2);
    out << header;
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(T)));
  }

  std::filesystem::path folder_;
};

void BM_PrepareNpy(benchmark::State& state, const char* scale) {
  static const NpyFiles files;
  DatasetRequest request;
  request.path = files.features();
  request.labels = files.labels_path();
  request.format = "npy";
  request.scale = scale;
  for (auto _ : state) {
    DatasetCache cache;  // fresh: every iteration reads the files
    const auto dataset = cache.get(request);
    benchmark::DoNotOptimize(cache.fingerprint(request));
    benchmark::DoNotOptimize(dataset->features.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(files.bytes()) * state.iterations());
  state.counters["file_bytes"] = files.bytes();
}

BENCHMARK(BM_Gemm)->ArgName("d")->Arg(784)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gram)
    ->Name("BM_Gram/fashion_mnist")
    ->ArgName("n")
    ->Arg(1)
    ->Arg(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadIdx)
    ->Name("BM_ReadIdx/fashion_mnist")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PrepareNpy, none, "none")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PrepareNpy, unit, "unit")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PrepareNpy, standardize_all, "standardize_all")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace istlab::bench
