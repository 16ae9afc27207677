#pragma once
// One round of gd, dcgd, ist or local_sgd on the network of problem/mlp.hpp: the methods of
// SPEC §3 with the same names and meaning, where a sketch keeps hidden units (unit j's W1 row,
// b1 entry and W2 column) instead of coordinates, and scales their activations by c_ij.
//
//   gd         every worker the full model's gradient g_i on its batch; x ← x − γ (1/n) Σ g_i
//   dcgd       g_i compressed by the sketch: unit j's blocks weighted by c_ij (kept) or 0, the
//              output bias (no unit's) sent whole; x ← x − γ (1/n) Σ C_i g_i
//   ist        worker i copies its submodel (units S_i, activations scaled by c_ij) and takes τ
//              local steps z ← z − γ ∇f_i(z) on its batches (the paper's Algorithm 1; Yuan et
//              al.'s IST); the server stitches the blocks back: unit j ← the mean of the blocks
//              of the workers that held it (unchanged when none did), b2 ← the mean of the b2s
//   local_sgd  τ local steps on the full model, then the n models are averaged
//
// Batches: all of a worker's samples (batch_size 0), or batch_size of them drawn without
// replacement for every local step from the stream (seed, round, worker, step). Workers run
// in parallel, each in its own buffers, and their contributions are summed in worker order,
// so the result does not depend on the thread count. Gradients over many samples are summed
// in chunks of kNetworkChunk samples, so no batch is copied whole.

#include <cstdint>
#include <span>
#include <vector>

#include "istlab/method/counts.hpp"
#include "istlab/problem/mlp.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {

inline constexpr int kNetworkChunk = 256;

enum class NetworkMethod { kGd, kDcgd, kIst, kLocalSgd };

struct NetworkRoundSpec {
  NetworkMethod method = NetworkMethod::kGd;
  SketchSpec sketch;    // over the hidden units (dcgd and ist)
  int local_steps = 1;  // ist and local_sgd
  int batch_size = 0;   // per worker and local step; 0: all of the worker's samples
  double step_size = 0.1;
};

class NetworkRounds {
 public:
  NetworkRounds(const NetworkData& data, const NetworkRoundSpec& spec);
  // Replaces `model` by the next round's.
  RoundCounts run(std::uint64_t seed, std::int64_t round, MlpParameters<float>& model);

  struct Worker {
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
  void local_steps(std::uint64_t seed, std::int64_t round, int worker, int steps);
  void stitch(const RoundSketch& sketch, MlpParameters<float>& model);
  // This round's floats and flops, from its sketch.
  RoundCounts counts() const;
  void average_gradients(const RoundSketch* sketch, MlpParameters<float>& model);

  const NetworkData& data_;
  NetworkRoundSpec spec_;
  Sketcher sketcher_;
  RoundSketch sketch_;
  std::vector<int> all_units_;
  std::vector<Worker> workers_;
  MlpParameters<float> sum_;  // server-side sums
  std::vector<int> holders_;  // per unit, workers that held it this round
  std::vector<int> shared_;   // the units more than one worker held
};

// The full model's mean loss (cross-entropy plus the L2 penalty) and accuracy over `samples`.
struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;
};
Evaluation evaluate(const MlpParameters<float>& model, const FeatureMatrix& features,
                    const std::vector<int>& class_of_sample, std::span<const std::int64_t> samples,
                    double l2);

// The full model's mean loss over `samples` (cross-entropy plus the L2 penalty) and the squared
// norm of its gradient, summed in chunks of kNetworkChunk samples as the rounds sum them.
struct LossAndGradient {
  double loss = 0.0;
  double grad_norm2 = 0.0;
};
LossAndGradient loss_and_gradient(const MlpParameters<float>& model, const NetworkData& data,
                                  std::span<const std::int64_t> samples);

// Whether every parameter is finite: a round that overflowed has diverged.
bool all_finite(const MlpParameters<float>& model);

}  // namespace istlab
