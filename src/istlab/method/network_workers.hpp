#pragma once
// What every method's round on a network shares (problem/mlp.hpp's ReLU network): the workers'
// buffers, their minibatches, copying the model or a submodel to them, local steps, and the
// server's two ways of merging: the mean gradient step and the write-back of submodels. Each
// method states its own round with these, in its own file (gd.cpp, dcgd.cpp, ist.cpp,
// local_sgd.cpp). A round's sketch is one sketch per hidden layer, over its units, each drawn
// from its own streams: it keeps units instead of coordinates, and scales their activations by
// c_ij. A parameter is kept when the units it connects are (an input or a class always is).
//
// Batches: all of a worker's samples (batch_size 0), or batch_size of them drawn without
// replacement for every local step from the stream (seed, round, worker, step). Workers run
// in parallel, each in its own buffers, and their contributions are summed in worker order,
// so the result does not depend on the thread count. Gradients over many samples are summed
// in chunks of kNetworkChunk samples, so no batch is copied whole.

#include <tbb/parallel_for.h>

#include <cstdint>
#include <span>
#include <vector>

#include "istlab/method/counts.hpp"
#include "istlab/method/round_stop.hpp"
#include "istlab/problem/mlp.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {

inline constexpr int kNetworkChunk = 256;

using NetworkModel = MlpParameters<float>;

// A round's sketches, one per hidden layer (layers[l] over layer l's units).
struct NetworkSketch {
  std::vector<RoundSketch> layers;
};

class NetworkWorkers {
 public:
  // `sketch` is drawn over each hidden layer's units; `batch_size` per worker and local step
  // (0: all of the worker's samples).
  NetworkWorkers(const NetworkData& data, const SketchSpec& sketch, int batch_size,
                 double step_size);

  int num_workers() const { return static_cast<int>(workers_.size()); }
  // Runs body(i) for every worker i, in parallel.
  template <class Body>
  void for_each_worker(Body&& body) {
    tbb::parallel_for(0, num_workers(), [&](int i) { body(i); });
  }

  // The round's sketches, layer l's drawn from (seed, round, l) (docs/theory.md §5).
  const NetworkSketch& draw_sketch(std::uint64_t seed, std::int64_t round);
  // Worker i's copy of the whole model, or of the units its sketches keep, their activations
  // scaled by its scales.
  void take_whole_model(int worker, const NetworkModel& model);
  void take_submodel(int worker, const NetworkModel& model, const NetworkSketch& sketch);
  // Worker i's gradient of its local loss on its batch (step 0 of the round's draws).
  void compute_gradient(int worker, std::uint64_t seed, std::int64_t round);
  // `steps` local steps z ← z − γ ∇f_i(z) on worker i's copy, each on a batch of its own;
  // polls the watching RoundStop before each (it may throw RoundStopped).
  void local_steps(int worker, std::uint64_t seed, std::int64_t round, int steps);
  void watch(const RoundStop& stop) { stop_ = &stop; }

  // x ← x − γ (1/n) Σ_i g_i, with g_i's kept parameters weighted by the product of the scales
  // of the units they connect and the rest dropped (`sketch`, dcgd), or whole (null, gd).
  void apply_mean_gradient(const NetworkSketch* sketch, NetworkModel& model);
  // Each parameter becomes the mean of the copies of the workers that held it (unchanged when
  // none did; the output bias every worker holds): the submodels are the sketch's (ist) or the
  // whole model (null: local_sgd).
  void write_back(const NetworkSketch* sketch, NetworkModel& model);

  // What a worker receives, sends and computes on: the whole model, or the units it kept.
  enum class Units { kAll, kKept };
  struct Traffic {
    Units down = Units::kAll;
    Units up = Units::kAll;
    Units computed = Units::kAll;
    int steps = 1;
  };
  // This round's floats and flops (kKept reads the round's sketch).
  RoundCounts counts(const Traffic& traffic) const;

  struct Worker {
    KeptUnits units;           // per hidden layer, the units it holds this round
    std::vector<int> widths;   // and how many
    Submodel<float> model;     // its copy of the (sub)model
    Submodel<float> gradient;  // of its local loss, summed over chunks
    Submodel<float> chunk_gradient;
    MlpWorkspace<float> workspace;
    // Its samples, partly shuffled in place for a minibatch; `swapped` are the last draw's
    // positions, undone before the next, so each draw starts from the samples' own order
    // without copying them all.
    std::vector<std::int64_t> pool;
    std::vector<std::size_t> swapped;
  };

 private:
  std::span<const std::int64_t> batch(std::uint64_t seed, std::int64_t round, int worker, int step);
  // The units worker i keeps in every hidden layer (all of them without a sketch).
  const KeptUnits& kept_units(int worker, const NetworkSketch* sketch);
  void take(int worker, const NetworkModel& model, const NetworkSketch* scaled);
  void write_back_layer(std::size_t layer, NetworkModel& model);

  const NetworkData& data_;
  int batch_size_;
  double step_size_;
  std::vector<Sketcher> sketchers_;  // per hidden layer
  NetworkSketch sketch_;
  std::vector<std::vector<int>> all_units_;  // per hidden layer
  std::vector<Worker> workers_;
  NetworkModel sum_;  // server-side sums
  // Per hidden layer and unit, the workers that held it this round; per layer between two
  // hidden ones and entry, the workers that held both its units (row-major).
  std::vector<std::vector<int>> holders_;
  std::vector<std::vector<int>> entry_holders_;
  std::vector<int> shared_;                  // of one layer, the units more than one worker held
  mutable std::vector<int> counted_widths_;  // counts()'s scratch: a worker's kept widths
  const RoundStop* stop_ = &RoundStop::never();
};

// The full model's mean loss (cross-entropy plus the L2 penalty) and accuracy over `samples`.
struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;
};
Evaluation evaluate(const MlpParameters<float>& model, const FeatureMatrix& features,
                    const std::vector<int>& class_of_sample, std::span<const std::int64_t> samples,
                    double l2);

// The training objective the methods minimise, F(w) = (1/n) Σ_i f_i(w) with f_i the full model's
// mean loss (cross-entropy plus the L2 penalty) over worker i's evaluation samples, and ‖∇F‖²;
// then the pooled versions: the mean over all those samples together, a worker weighing by its
// share of them (the same as F only when the workers hold equally many). Each f_i and its
// gradient is summed in chunks of kNetworkChunk samples as the rounds sum them.
struct TrainingMetrics {
  double loss = 0.0;
  double grad_norm2 = 0.0;
  double pooled_loss = 0.0;
  double pooled_grad_norm2 = 0.0;
};
TrainingMetrics training_metrics(const MlpParameters<float>& model, const NetworkData& data,
                                 const std::vector<std::vector<std::int64_t>>& samples_of_worker);

// Memory, for the sweep's estimate: the bytes written at the peak (a buffer sized for a chunk
// but filled for a smaller batch costs only what is written). NetworkWorkers for `workers`
// workers that each keep `kept` units of every hidden layer (shape.hidden: the whole model)
// of a network of `shape`, on `samples` training samples drawn `batch_size` at a time (0: all):
// each worker's copy and gradient (the output layer's C × kept weighs as the first layer's
// kept × d), its chunk gradient when a batch spans chunks, its workspace and samples; the
// server's sums and counts.
double network_workers_bytes(const MlpShape& shape, int workers, std::span<const int> kept,
                             double samples, int batch_size);
// What a recorded round's metrics hold over `samples` samples (training_metrics): the whole
// model as a worker's copy and gradient, a chunk gradient when they span chunks, a workspace,
// and the two sums of the workers' gradients (equal-weight and pooled).
double network_metrics_bytes(const MlpShape& shape, double samples);

// Whether every parameter is finite: a round that overflowed has diverged.
bool all_finite(const MlpParameters<float>& model);

}  // namespace istlab
