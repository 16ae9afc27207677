#include "istlab/method/network_workers.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

using Model = MlpParameters<float>;
using Block = Submodel<float>;

// Zeroes every block of a Submodel or of MlpParameters (they name their blocks alike).
template <class Blocks>
void set_zero(Blocks& block) {
  block.hidden_weights.setZero();
  block.hidden_bias.setZero();
  block.output_weights.setZero();
  block.output_bias.setZero();
}

void add_scaled(Block& sum, float weight, const Block& term) {
  sum.hidden_weights += weight * term.hidden_weights;
  sum.hidden_bias += weight * term.hidden_bias;
  sum.output_weights += weight * term.output_weights;
  sum.output_bias += weight * term.output_bias;
}

// Floats of one hidden unit's blocks (W1 row, b1 entry, W2 column), and of the whole model.
double unit_floats(const MlpShape& shape) { return shape.inputs + 1.0 + shape.classes; }
double model_floats(const MlpShape& shape) {
  return shape.hidden * unit_floats(shape) + shape.classes;
}

// The local loss's gradient at worker.model over `samples`, summed chunk by chunk (each
// chunk's mean gradient weighted by its share of the samples) into worker.gradient.
double gradient_over(NetworkWorkers::Worker& worker, std::span<const std::int64_t> samples,
                     const NetworkData& data) {
  if (samples.size() <= static_cast<std::size_t>(kNetworkChunk)) {  // one chunk: no sum needed
    load_batch(*data.features, data.class_of_sample, samples, worker.workspace);
    return submodel_loss(worker.model, data.l2, worker.workspace, &worker.gradient);
  }
  set_zero(worker.gradient);
  double loss = 0.0;
  for (std::size_t first = 0; first < samples.size(); first += kNetworkChunk) {
    const auto chunk =
        samples.subspan(first, std::min<std::size_t>(kNetworkChunk, samples.size() - first));
    load_batch(*data.features, data.class_of_sample, chunk, worker.workspace);
    const double weight = static_cast<double>(chunk.size()) / static_cast<double>(samples.size());
    loss += weight * submodel_loss(worker.model, data.l2, worker.workspace, &worker.chunk_gradient);
    add_scaled(worker.gradient, static_cast<float>(weight), worker.chunk_gradient);
  }
  return loss;
}

// The whole model as a submodel of every unit, unscaled: what the metrics evaluate.
Block full_submodel(const Model& model) {
  const MlpShape shape = model.shape();
  std::vector<int> units(static_cast<std::size_t>(shape.hidden));
  std::iota(units.begin(), units.end(), 0);
  Block full;
  full.resize(shape, shape.hidden);
  full.gather(model, units);
  full.scales.setOnes();
  return full;
}

}  // namespace

NetworkWorkers::NetworkWorkers(const NetworkData& data, const SketchSpec& sketch, int batch_size,
                               double step_size)
    : data_(data),
      batch_size_(batch_size),
      step_size_(step_size),
      sketcher_(sketch, data.shape.hidden, static_cast<int>(data.samples_of_worker.size())),
      sketch_(sketcher_.make_round()),
      all_units_(static_cast<std::size_t>(data.shape.hidden)),
      workers_(data.samples_of_worker.size()),
      sum_(Model::zeros(data.shape)),
      holders_(static_cast<std::size_t>(data.shape.hidden)) {
  std::iota(all_units_.begin(), all_units_.end(), 0);
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i].pool = data.samples_of_worker[i];
    // (a draw swaps at most min(batch_size, samples) places: a huge batch_size reserves no more)
    workers_[i].swapped.reserve(std::min(static_cast<std::size_t>(std::max(batch_size, 0)),
                                         data.samples_of_worker[i].size()));
  }
  shared_.reserve(holders_.size());
}

const RoundSketch& NetworkWorkers::draw_sketch(std::uint64_t seed, std::int64_t round) {
  sketcher_.draw(seed, round, sketch_);
  return sketch_;
}

void NetworkWorkers::take(int worker, const Model& model, std::span<const int> units,
                          const WorkerSketch* scaled) {
  const MlpShape& shape = data_.shape;
  Worker& state = workers_[static_cast<std::size_t>(worker)];
  const int kept = static_cast<int>(units.size());
  state.model.resize(shape, kept);  // (no allocation while the size stays the same)
  state.gradient.resize(shape, kept);
  state.chunk_gradient.resize(shape, kept);
  state.workspace.resize(shape, kept, kNetworkChunk);
  state.model.gather(model, units);
  state.model.scales.setOnes();
  if (scaled != nullptr)
    for (int t = 0; t < kept; ++t)
      state.model.scales[t] = static_cast<float>(scaled->scales[static_cast<std::size_t>(t)]);
}

void NetworkWorkers::take_whole_model(int worker, const Model& model) {
  take(worker, model, all_units_, nullptr);
}

void NetworkWorkers::take_submodel(int worker, const Model& model, const WorkerSketch& kept) {
  take(worker, model, kept.indices, &kept);
}

void NetworkWorkers::compute_gradient(int worker, std::uint64_t seed, std::int64_t round) {
  gradient_over(workers_[static_cast<std::size_t>(worker)], batch(seed, round, worker, 0), data_);
}

std::span<const std::int64_t> NetworkWorkers::batch(std::uint64_t seed, std::int64_t round,
                                                    int worker, int step) {
  const auto& samples = data_.samples_of_worker[static_cast<std::size_t>(worker)];
  const auto size = static_cast<std::size_t>(batch_size_);
  if (size == 0 || size >= samples.size()) return samples;
  // A partial Fisher–Yates shuffle of the worker's samples: depends on (seed, round, worker,
  // step) only, not on earlier draws.
  auto& pool = workers_[static_cast<std::size_t>(worker)].pool;
  auto& swapped = workers_[static_cast<std::size_t>(worker)].swapped;
  for (std::size_t t = swapped.size(); t-- > 0;) std::swap(pool[t], pool[swapped[t]]);
  swapped.clear();
  RandomStream stream(
      seed, StreamPurpose::kMinibatch, static_cast<std::uint64_t>(round),
      (static_cast<std::uint64_t>(worker) << 32) | static_cast<std::uint64_t>(step));
  for (std::size_t t = 0; t < size; ++t) {
    swapped.push_back(t + stream.below(pool.size() - t));
    std::swap(pool[t], pool[swapped.back()]);
  }
  return std::span<const std::int64_t>(pool.data(), size);
}

void NetworkWorkers::local_steps(int worker, std::uint64_t seed, std::int64_t round, int steps) {
  Worker& state = workers_[static_cast<std::size_t>(worker)];
  const auto step = static_cast<float>(step_size_);
  for (int s = 0; s < steps; ++s) {
    stop_->poll();
    gradient_over(state, batch(seed, round, worker, s), data_);
    add_scaled(state.model, -step, state.gradient);
  }
}

// A unit one worker held is copied back (what the mean of one block is, bit for bit), so a
// Perm round moves each unit once and never touches the server's sums.
void NetworkWorkers::write_back(const RoundSketch* sketch, Model& model) {
  auto units_of = [&](std::size_t i) {
    return sketch != nullptr ? std::span<const int>(sketch->workers[i].indices)
                             : std::span<const int>(all_units_);
  };
  std::fill(holders_.begin(), holders_.end(), 0);
  for (std::size_t i = 0; i < workers_.size(); ++i)
    for (const int j : units_of(i)) ++holders_[static_cast<std::size_t>(j)];
  shared_.clear();
  for (std::size_t j = 0; j < holders_.size(); ++j) {
    if (holders_[j] < 2) continue;
    shared_.push_back(static_cast<int>(j));
    sum_.hidden_weights.row(static_cast<Eigen::Index>(j)).setZero();
    sum_.hidden_bias[static_cast<Eigen::Index>(j)] = 0.0f;
    sum_.output_weights.col(static_cast<Eigen::Index>(j)).setZero();
  }
  sum_.output_bias.setZero();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const Block& block = workers_[i].model;
    const std::span<const int> units = units_of(i);
    for (std::size_t t = 0; t < units.size(); ++t) {
      const auto j = units[t];
      const auto from = static_cast<Eigen::Index>(t);
      if (holders_[static_cast<std::size_t>(j)] == 1) {
        model.hidden_weights.row(j) = block.hidden_weights.row(from);
        model.hidden_bias[j] = block.hidden_bias[from];
        model.output_weights.col(j) = block.output_weights.col(from);
      } else {
        sum_.hidden_weights.row(j) += block.hidden_weights.row(from);
        sum_.hidden_bias[j] += block.hidden_bias[from];
        sum_.output_weights.col(j) += block.output_weights.col(from);
      }
    }
    sum_.output_bias += block.output_bias;
  }
  for (const int j : shared_) {
    const float inverse = 1.0f / static_cast<float>(holders_[static_cast<std::size_t>(j)]);
    model.hidden_weights.row(j) = inverse * sum_.hidden_weights.row(j);
    model.hidden_bias[j] = inverse * sum_.hidden_bias[j];
    model.output_weights.col(j) = inverse * sum_.output_weights.col(j);
  }
  model.output_bias = (1.0f / static_cast<float>(workers_.size())) * sum_.output_bias;
}

void NetworkWorkers::apply_mean_gradient(const RoundSketch* sketch, Model& model) {
  sum_.output_bias.setZero();
  if (sketch != nullptr) set_zero(sum_);
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const Block& gradient = workers_[i].gradient;
    if (sketch == nullptr && i == 0) {  // (the first full gradient is copied, not added to 0)
      sum_.hidden_weights = gradient.hidden_weights;
      sum_.hidden_bias = gradient.hidden_bias;
      sum_.output_weights = gradient.output_weights;
    } else if (sketch == nullptr) {
      sum_.hidden_weights += gradient.hidden_weights;
      sum_.hidden_bias += gradient.hidden_bias;
      sum_.output_weights += gradient.output_weights;
    } else {
      const WorkerSketch& kept = sketch->workers[i];
      for (std::size_t t = 0; t < kept.indices.size(); ++t) {
        const int j = kept.indices[t];
        const auto weight = static_cast<float>(kept.scales[t]);
        sum_.hidden_weights.row(j) += weight * gradient.hidden_weights.row(j);
        sum_.hidden_bias[j] += weight * gradient.hidden_bias[j];
        sum_.output_weights.col(j) += weight * gradient.output_weights.col(j);
      }
    }
    sum_.output_bias += gradient.output_bias;
  }
  const auto step = static_cast<float>(step_size_);
  const float inverse = 1.0f / static_cast<float>(workers_.size());
  model.hidden_weights -= step * (inverse * sum_.hidden_weights);
  model.hidden_bias -= step * (inverse * sum_.hidden_bias);
  model.output_weights -= step * (inverse * sum_.output_weights);
  model.output_bias -= step * (inverse * sum_.output_bias);
}

RoundCounts NetworkWorkers::counts(const Traffic& traffic) const {
  const MlpShape& shape = data_.shape;
  RoundCounts counts;
  const double n = static_cast<double>(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const auto& samples = data_.samples_of_worker[i];
    const double batch = batch_size_ > 0
                             ? std::min<double>(batch_size_, static_cast<double>(samples.size()))
                             : static_cast<double>(samples.size());
    auto units = [&](Units which) {
      return which == Units::kKept ? static_cast<double>(sketch_.workers[i].indices.size())
                                   : static_cast<double>(shape.hidden);
    };
    // (the whole model is every unit's floats plus b2's, as a submodel of every unit is)
    auto floats = [&](Units which) {
      return which == Units::kAll ? model_floats(shape)
                                  : units(which) * unit_floats(shape) + shape.classes;
    };
    counts.add_worker(
        floats(traffic.down), floats(traffic.up),
        traffic.steps * submodel_step_flops(shape, static_cast<int>(units(traffic.computed)),
                                            static_cast<int>(batch)),
        n);
  }
  return counts;
}

Evaluation evaluate(const MlpParameters<float>& model, const FeatureMatrix& features,
                    const std::vector<int>& class_of_sample, std::span<const std::int64_t> samples,
                    double l2) {
  const MlpShape shape = model.shape();
  const Block full = full_submodel(model);
  MlpWorkspace<float> workspace;
  workspace.resize(shape, shape.hidden, kNetworkChunk);
  double cross_entropy = 0.0;
  std::int64_t correct = 0;
  for (std::size_t first = 0; first < samples.size(); first += kNetworkChunk) {
    const auto chunk =
        samples.subspan(first, std::min<std::size_t>(kNetworkChunk, samples.size() - first));
    load_batch(features, class_of_sample, chunk, workspace);
    forward(full, workspace);
    for (std::size_t r = 0; r < chunk.size(); ++r) {
      const auto logits = workspace.logits.row(static_cast<Eigen::Index>(r)).cast<double>();
      Eigen::Index best = 0;
      const double largest = logits.maxCoeff(&best);
      const int label = workspace.labels[r];
      cross_entropy += std::log((logits.array() - largest).exp().sum()) - (logits[label] - largest);
      correct += best == label ? 1 : 0;
    }
  }
  const double count = static_cast<double>(samples.size());
  const double penalty = 0.5 * l2 *
                         (static_cast<double>(model.hidden_weights.squaredNorm()) +
                          static_cast<double>(model.output_weights.squaredNorm()));
  return {cross_entropy / count + penalty, static_cast<double>(correct) / count};
}

namespace {

double squared_norm(const Block& block) {
  return static_cast<double>(block.hidden_weights.squaredNorm()) +
         static_cast<double>(block.hidden_bias.squaredNorm()) +
         static_cast<double>(block.output_weights.squaredNorm()) +
         static_cast<double>(block.output_bias.squaredNorm());
}

}  // namespace

TrainingMetrics training_metrics(const MlpParameters<float>& model, const NetworkData& data,
                                 const std::vector<std::vector<std::int64_t>>& samples_of_worker) {
  const MlpShape shape = model.shape();
  NetworkWorkers::Worker full;
  full.model = full_submodel(model);
  full.gradient.resize(shape, shape.hidden);
  full.chunk_gradient.resize(shape, shape.hidden);
  full.workspace.resize(shape, shape.hidden, kNetworkChunk);
  Block equal_sum = full.gradient;  // (1/n) Σ_i ∇f_i
  Block pooled_sum = full.gradient;
  set_zero(equal_sum);
  set_zero(pooled_sum);
  double total = 0.0;
  for (const auto& samples : samples_of_worker) total += static_cast<double>(samples.size());
  const double equal_weight = 1.0 / static_cast<double>(samples_of_worker.size());
  TrainingMetrics metrics;
  for (const auto& samples : samples_of_worker) {
    const double pooled_weight = static_cast<double>(samples.size()) / total;
    const double loss = gradient_over(full, samples, data);
    metrics.loss += equal_weight * loss;
    metrics.pooled_loss += pooled_weight * loss;
    add_scaled(equal_sum, static_cast<float>(equal_weight), full.gradient);
    add_scaled(pooled_sum, static_cast<float>(pooled_weight), full.gradient);
  }
  metrics.grad_norm2 = squared_norm(equal_sum);
  metrics.pooled_grad_norm2 = squared_norm(pooled_sum);
  return metrics;
}

namespace {

// Floats of a Submodel of `kept` units (its blocks and scales).
double submodel_floats(const MlpShape& shape, double kept) {
  return kept * (shape.inputs + shape.classes + 2.0) + shape.classes;
}

// Bytes one worker's buffers take for batches of `batch` samples: its copy and gradient, the
// chunk gradient (written only when a batch spans chunks), the workspace's rows a chunk fills.
double worker_buffer_bytes(const MlpShape& shape, double kept, double batch) {
  const double copies = batch > kNetworkChunk ? 3 : 2;
  const double rows = std::min<double>(batch, kNetworkChunk);
  return (copies * submodel_floats(shape, kept) +
          rows * (shape.inputs + 2.0 * kept + shape.classes)) *
         sizeof(float);
}

}  // namespace

double network_workers_bytes(const MlpShape& shape, int workers, int kept, double samples,
                             int batch_size) {
  const double n = workers;
  const double held = samples / n;  // a worker's samples
  const double batch = batch_size > 0 ? std::min<double>(batch_size, held) : held;
  const double per_worker = worker_buffer_bytes(shape, kept, batch) +
                            (batch_size > 0 ? batch : 0.0) * sizeof(std::size_t);
  const double server = model_floats(shape) * sizeof(float) + 3.0 * shape.hidden * sizeof(int);
  return n * per_worker + samples * sizeof(std::int64_t) + server;
}

double network_metrics_bytes(const MlpShape& shape, double samples) {
  return worker_buffer_bytes(shape, shape.hidden, samples) +
         2.0 * submodel_floats(shape, shape.hidden) * sizeof(float);
}

bool all_finite(const MlpParameters<float>& model) {
  return model.hidden_weights.allFinite() && model.hidden_bias.allFinite() &&
         model.output_weights.allFinite() && model.output_bias.allFinite();
}

}  // namespace istlab
