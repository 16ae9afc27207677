#include "istlab/method/network_workers.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

using Model = MlpParameters<float>;
using Block = Submodel<float>;

// Zeroes every layer of a Submodel or of MlpParameters (they name their layers alike).
template <class Layers>
void set_zero(Layers& block) {
  for (auto& layer : block.layers) {
    layer.weights.setZero();
    layer.bias.setZero();
  }
}

void add_scaled(Block& sum, float weight, const Block& term) {
  for (std::size_t l = 0; l < sum.layers.size(); ++l) {
    sum.layers[l].weights += weight * term.layers[l].weights;
    sum.layers[l].bias += weight * term.layers[l].bias;
  }
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
  std::vector<std::vector<int>> units;
  KeptUnits kept;
  for (const int width : shape.hidden) {
    units.emplace_back(static_cast<std::size_t>(width));
    std::iota(units.back().begin(), units.back().end(), 0);
  }
  for (const auto& layer : units) kept.emplace_back(layer);
  Block full;
  full.resize(shape, shape.hidden);
  full.gather(model, kept);
  for (auto& scales : full.scales) scales.setOnes();
  return full;
}

}  // namespace

NetworkWorkers::NetworkWorkers(const NetworkData& data, const SketchSpec& sketch, int batch_size,
                               double step_size)
    : data_(data),
      batch_size_(batch_size),
      step_size_(step_size),
      workers_(data.samples_of_worker.size()),
      sum_(Model::zeros(data.shape)) {
  const MlpShape& shape = data.shape;
  const int workers = static_cast<int>(workers_.size());
  for (int l = 0; l < shape.depth(); ++l) {
    const int width = shape.hidden[static_cast<std::size_t>(l)];
    sketchers_.emplace_back(sketch, width, workers, l);
    sketch_.layers.push_back(sketchers_.back().make_round());
    all_units_.emplace_back(static_cast<std::size_t>(width));
    std::iota(all_units_.back().begin(), all_units_.back().end(), 0);
    holders_.emplace_back(static_cast<std::size_t>(width));
    entry_holders_.emplace_back();  // (sized by the first write-back: gd and dcgd have none)
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i].pool = data.samples_of_worker[i];
    // (a draw swaps at most min(batch_size, samples) places: a huge batch_size reserves no more)
    workers_[i].swapped.reserve(std::min(static_cast<std::size_t>(std::max(batch_size, 0)),
                                         data.samples_of_worker[i].size()));
    workers_[i].units.resize(static_cast<std::size_t>(shape.depth()));
    workers_[i].widths.resize(static_cast<std::size_t>(shape.depth()));
  }
  shared_.reserve(
      static_cast<std::size_t>(*std::max_element(shape.hidden.begin(), shape.hidden.end())));
  counted_widths_.resize(static_cast<std::size_t>(shape.depth()));
}

const NetworkSketch& NetworkWorkers::draw_sketch(std::uint64_t seed, std::int64_t round) {
  for (std::size_t l = 0; l < sketchers_.size(); ++l)
    sketchers_[l].draw(seed, round, sketch_.layers[l]);
  return sketch_;
}

const KeptUnits& NetworkWorkers::kept_units(int worker, const NetworkSketch* sketch) {
  Worker& state = workers_[static_cast<std::size_t>(worker)];
  for (std::size_t l = 0; l < state.units.size(); ++l) {
    state.units[l] = sketch != nullptr
                         ? std::span<const int>(
                               sketch->layers[l].workers[static_cast<std::size_t>(worker)].indices)
                         : std::span<const int>(all_units_[l]);
    state.widths[l] = static_cast<int>(state.units[l].size());
  }
  return state.units;
}

void NetworkWorkers::take(int worker, const Model& model, const NetworkSketch* scaled) {
  const MlpShape& shape = data_.shape;
  Worker& state = workers_[static_cast<std::size_t>(worker)];
  const KeptUnits& units = kept_units(worker, scaled);
  state.model.resize(shape, state.widths);  // (no allocation while the sizes stay the same)
  state.gradient.resize(shape, state.widths);
  state.chunk_gradient.resize(shape, state.widths);
  state.workspace.resize(shape, state.widths, kNetworkChunk);
  state.model.gather(model, units);
  for (std::size_t l = 0; l < units.size(); ++l) {
    auto& scales = state.model.scales[l];
    scales.setOnes();
    if (scaled == nullptr) continue;
    const auto& kept = scaled->layers[l].workers[static_cast<std::size_t>(worker)];
    for (Eigen::Index t = 0; t < scales.size(); ++t)
      scales[t] = static_cast<float>(kept.scales[static_cast<std::size_t>(t)]);
  }
}

void NetworkWorkers::take_whole_model(int worker, const Model& model) {
  take(worker, model, nullptr);
}

void NetworkWorkers::take_submodel(int worker, const Model& model, const NetworkSketch& sketch) {
  take(worker, model, &sketch);
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

// Layer by layer, each parameter the mean of its holders' copies. A parameter one worker held
// is copied back (what the mean of one copy is, bit for bit), so a perm round moves each
// parameter once and touches the server's sums only for the output bias.
void NetworkWorkers::write_back(const NetworkSketch* sketch, Model& model) {
  for (std::size_t i = 0; i < workers_.size(); ++i) kept_units(static_cast<int>(i), sketch);
  for (std::size_t l = 0; l < holders_.size(); ++l) {
    std::fill(holders_[l].begin(), holders_[l].end(), 0);
    for (const Worker& worker : workers_)
      for (const int j : worker.units[l]) ++holders_[l][static_cast<std::size_t>(j)];
  }
  for (std::size_t l = 0; l < model.layers.size(); ++l) write_back_layer(l, model);
}

void NetworkWorkers::write_back_layer(std::size_t l, Model& model) {
  const std::size_t depth = holders_.size();
  auto& target = model.layers[l];
  auto& sum = sum_.layers[l];
  // The units whose rows (layers below the output) or columns (the output layer) this layer
  // writes back, and how many workers held each.
  const std::vector<int>& holders = holders_[l < depth ? l : depth - 1];
  shared_.clear();
  for (std::size_t j = 0; j < holders.size(); ++j) {
    if (holders[j] < 2) continue;
    shared_.push_back(static_cast<int>(j));
    const auto unit = static_cast<Eigen::Index>(j);
    if (l == depth) {
      sum.weights.col(unit).setZero();
    } else {
      if (l == 0) sum.weights.row(unit).setZero();
      sum.bias[unit] = 0.0f;
    }
  }
  if (l == depth) sum.bias.setZero();
  // A layer between two hidden ones: each entry by the workers that held both its units.
  std::vector<int>& entries = entry_holders_[l < depth ? l : 0];
  const auto columns = static_cast<std::size_t>(target.weights.cols());
  const bool between = l > 0 && l < depth;
  if (between) {
    entries.assign(static_cast<std::size_t>(target.weights.size()), 0);
    for (const Worker& worker : workers_)
      for (const int r : worker.units[l])
        for (const int c : worker.units[l - 1])
          ++entries[static_cast<std::size_t>(r) * columns + static_cast<std::size_t>(c)];
    sum.weights.setZero();
  }
  for (const Worker& worker : workers_) {
    const auto& block = worker.model.layers[l];
    if (l == depth) {
      const std::span<const int> units = worker.units[l - 1];
      for (std::size_t t = 0; t < units.size(); ++t) {
        const auto from = static_cast<Eigen::Index>(t);
        if (holders[static_cast<std::size_t>(units[t])] == 1)
          target.weights.col(units[t]) = block.weights.col(from);
        else
          sum.weights.col(units[t]) += block.weights.col(from);
      }
      sum.bias += block.bias;
      continue;
    }
    const std::span<const int> rows = worker.units[l];
    for (std::size_t t = 0; t < rows.size(); ++t) {
      const int r = rows[t];
      const auto from = static_cast<Eigen::Index>(t);
      const bool alone = holders[static_cast<std::size_t>(r)] == 1;
      if (alone)
        target.bias[r] = block.bias[from];
      else
        sum.bias[r] += block.bias[from];
      if (l == 0 && alone) {
        target.weights.row(r) = block.weights.row(from);
      } else if (l == 0) {
        sum.weights.row(r) += block.weights.row(from);
      } else {
        const std::span<const int> cols = worker.units[l - 1];
        for (std::size_t u = 0; u < cols.size(); ++u) {
          const std::size_t entry =
              static_cast<std::size_t>(r) * columns + static_cast<std::size_t>(cols[u]);
          if (entries[entry] == 1)
            target.weights(r, cols[u]) = block.weights(from, static_cast<Eigen::Index>(u));
          else
            sum.weights(r, cols[u]) += block.weights(from, static_cast<Eigen::Index>(u));
        }
      }
    }
  }
  for (const int j : shared_) {
    const float inverse = 1.0f / static_cast<float>(holders[static_cast<std::size_t>(j)]);
    if (l == depth) {
      target.weights.col(j) = inverse * sum.weights.col(j);
    } else {
      if (l == 0) target.weights.row(j) = inverse * sum.weights.row(j);
      target.bias[j] = inverse * sum.bias[j];
    }
  }
  if (l == depth) target.bias = (1.0f / static_cast<float>(workers_.size())) * sum.bias;
  if (between)
    for (std::size_t entry = 0; entry < entries.size(); ++entry)
      if (entries[entry] > 1)
        target.weights.data()[entry] =
            (1.0f / static_cast<float>(entries[entry])) * sum.weights.data()[entry];
}

void NetworkWorkers::apply_mean_gradient(const NetworkSketch* sketch, Model& model) {
  const std::size_t depth = data_.shape.hidden.size();
  sum_.layers[depth].bias.setZero();
  if (sketch != nullptr) set_zero(sum_);
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const Block& gradient = workers_[i].gradient;
    for (std::size_t l = 0; l <= depth; ++l) {
      auto& sum = sum_.layers[l];
      const auto& term = gradient.layers[l];
      if (sketch == nullptr) {  // (the first full gradient is copied, not added to 0)
        if (i == 0) {
          sum.weights = term.weights;
          if (l < depth) sum.bias = term.bias;
        } else {
          sum.weights += term.weights;
          if (l < depth) sum.bias += term.bias;
        }
        continue;
      }
      if (l == depth) {  // the last hidden layer's kept columns, by their scales
        const WorkerSketch& kept = sketch->layers[l - 1].workers[i];
        for (std::size_t u = 0; u < kept.indices.size(); ++u) {
          const int j = kept.indices[u];
          sum.weights.col(j) += static_cast<float>(kept.scales[u]) * term.weights.col(j);
        }
        continue;
      }
      const WorkerSketch& rows = sketch->layers[l].workers[i];
      for (std::size_t t = 0; t < rows.indices.size(); ++t) {
        const int r = rows.indices[t];
        const auto weight = static_cast<float>(rows.scales[t]);
        if (l == 0) {
          sum.weights.row(r) += weight * term.weights.row(r);
        } else {  // an entry weighs the product of its two units' scales
          const WorkerSketch& cols = sketch->layers[l - 1].workers[i];
          for (std::size_t u = 0; u < cols.indices.size(); ++u) {
            const int c = cols.indices[u];
            sum.weights(r, c) +=
                static_cast<float>(rows.scales[t] * cols.scales[u]) * term.weights(r, c);
          }
        }
        sum.bias[r] += weight * term.bias[r];
      }
    }
    sum_.layers[depth].bias += gradient.layers[depth].bias;
  }
  const auto step = static_cast<float>(step_size_);
  const float inverse = 1.0f / static_cast<float>(workers_.size());
  for (std::size_t l = 0; l <= depth; ++l) {
    model.layers[l].weights -= step * (inverse * sum_.layers[l].weights);
    model.layers[l].bias -= step * (inverse * sum_.layers[l].bias);
  }
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
    // (the whole model is a submodel of every unit)
    auto widths = [&](Units which) -> std::span<const int> {
      if (which == Units::kAll) return shape.hidden;
      for (std::size_t l = 0; l < counted_widths_.size(); ++l)
        counted_widths_[l] = static_cast<int>(sketch_.layers[l].workers[i].indices.size());
      return counted_widths_;
    };
    const double down = submodel_parameters(shape, widths(traffic.down));
    const double up = submodel_parameters(shape, widths(traffic.up));
    const double flops = traffic.steps * submodel_step_flops(shape, widths(traffic.computed),
                                                             static_cast<int>(batch));
    counts.add_worker(down, up, flops, n);
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
  double squared_weights = 0.0;
  for (const auto& layer : model.layers)
    squared_weights += static_cast<double>(layer.weights.squaredNorm());
  const double penalty = 0.5 * l2 * squared_weights;
  return {cross_entropy / count + penalty, static_cast<double>(correct) / count};
}

namespace {

double squared_norm(const Block& block) {
  double sum = 0.0;
  for (const auto& layer : block.layers)
    sum += static_cast<double>(layer.weights.squaredNorm()) +
           static_cast<double>(layer.bias.squaredNorm());
  return sum;
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

// Floats of a Submodel keeping `kept` units per hidden layer (its parameters and scales).
double submodel_floats(const MlpShape& shape, std::span<const int> kept) {
  double scales = 0.0;
  for (const int width : kept) scales += width;
  return submodel_parameters(shape, kept) + scales;
}

// Bytes one worker's buffers take for batches of `batch` samples: its copy and gradient, the
// chunk gradient (written only when a batch spans chunks), the workspace's rows a chunk fills.
double worker_buffer_bytes(const MlpShape& shape, std::span<const int> kept, double batch) {
  const double copies = batch > kNetworkChunk ? 3 : 2;
  const double rows = std::min<double>(batch, kNetworkChunk);
  double units = 0.0;
  for (const int width : kept) units += width;
  return (copies * submodel_floats(shape, kept) +
          rows * (shape.inputs + 2.0 * units + shape.classes)) *
         sizeof(float);
}

}  // namespace

double network_workers_bytes(const MlpShape& shape, int workers, std::span<const int> kept,
                             double samples, int batch_size) {
  const double n = workers;
  const double held = samples / n;  // a worker's samples
  const double batch = batch_size > 0 ? std::min<double>(batch_size, held) : held;
  const double per_worker = worker_buffer_bytes(shape, kept, batch) +
                            (batch_size > 0 ? batch : 0.0) * sizeof(std::size_t);
  // (per unit its holders, its place in a list of all units and in the shared ones; per entry
  // of a layer between hidden ones its holders)
  double counters = 0.0;
  for (int l = 0; l < shape.depth(); ++l)
    counters += 3.0 * shape.hidden[static_cast<std::size_t>(l)] +
                (l > 0 ? static_cast<double>(shape.hidden[static_cast<std::size_t>(l)]) *
                             shape.hidden[static_cast<std::size_t>(l - 1)]
                       : 0.0);
  const double server = shape.parameters() * sizeof(float) + counters * sizeof(int);
  return n * per_worker + samples * sizeof(std::int64_t) + server;
}

double network_metrics_bytes(const MlpShape& shape, double samples) {
  return worker_buffer_bytes(shape, shape.hidden, samples) +
         2.0 * submodel_floats(shape, shape.hidden) * sizeof(float);
}

bool all_finite(const MlpParameters<float>& model) {
  for (const auto& layer : model.layers)
    if (!layer.weights.allFinite() || !layer.bias.allFinite()) return false;
  return true;
}

}  // namespace istlab
