#pragma once
// Sketches of docs/theory.md §2: per round and worker a diagonal C_i = Diag(c_i), stored as the
// sorted list of kept coordinates S_i and their scales, never as a matrix.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "istlab/param/parameter.hpp"
#include "istlab/problem/quadratic.hpp"

namespace istlab {

enum class SketchType { kIdentity, kPerm, kRand };
enum class SketchScale { kUnbiased, kNone, kSqrtN, kDiagPrecond };

struct SketchSpec {
  SketchType type = SketchType::kIdentity;
  SketchScale scale = SketchScale::kUnbiased;
  // Rand-q: coordinates each worker keeps; 0 means ⌈d/n⌉, the size of a perm block.
  int rand_q = 0;

  // Throws ParameterError naming the field and value.
  void validate(int dim) const;
  int resolved_rand_q(int dim, int num_workers) const;
  // One spelling per sketch: the identity's scale is unbiased, rand_q is resolved for rand
  // and 0 otherwise, so equal sketches have equal specs.
  void resolve(int dim, int num_workers);
  // "|sketch=perm|scale=unbiased|q=0": the part of cell and theory keys that names the sketch.
  std::string key() const;
};

// `sketch`, `scale` and `rand_q` of a `methods:` entry.
const std::vector<Parameter<SketchSpec>>& sketch_parameters();

// Names used in configs and CSV; parse_* throw with the list of valid names.
std::string_view name(SketchType type);
std::string_view name(SketchScale scale);
SketchType parse_sketch_type(std::string_view text);
SketchScale parse_sketch_scale(std::string_view text);
std::vector<std::string> sketch_type_names();
std::vector<std::string> sketch_scale_names();
std::vector<NameAndMeaning> sketch_type_meanings();
std::vector<NameAndMeaning> sketch_scale_meanings();

// c_ij of a kept coordinate j whose unbiased scale is `unbiased` (n/m_j for perm, d/q for
// rand, 1 for identity), where `diagonal` is (L_i)_jj:
//   unbiased → unbiased, none → 1, sqrt_n → √unbiased, diag_precond → √unbiased·(L_i)_jj^(−1/2).
// For perm with d ≥ n, √unbiased = √n as in docs/theory.md §2.
double scale_value(SketchScale scale, double unbiased, double diagonal);

struct WorkerSketch {
  std::vector<int> indices;    // S_i, sorted
  std::vector<double> scales;  // c_ij for j = indices[t]
  std::vector<int> scratch;    // rand: draw buffer, reused every round
};

// One round's sketches; sized once by Sketcher::make_round, refilled without allocating.
struct RoundSketch {
  std::vector<WorkerSketch> workers;
  std::vector<int> coordinate_order;  // perm: the round's permutation of [d]
  std::vector<int> worker_order;      // perm: which workers get the larger blocks / slots
  // perm with d ≥ n, where the S_i partition [d]: the worker keeping each coordinate and
  // its scale, so a method can run coordinate by coordinate (`partition` says they are set).
  bool partition = false;
  std::vector<int> owner;
  std::vector<double> coordinate_scales;
  // Mean over workers of |S_i|: what each worker sends for a sketched vector.
  double mean_support() const;
};

class Sketcher {
 public:
  Sketcher(const SketchSpec& spec, const Quadratic& problem);
  // Over `dim` coordinates that are not a quadratic's (a network's hidden units): every scale
  // but diag_precond, which needs L_i's diagonal. `layer` > 0 draws from streams of its own
  // (a network's deeper hidden layers: (seed, round, layer) and (seed, round, worker, layer)).
  Sketcher(const SketchSpec& spec, int dim, int num_workers, int layer = 0);

  RoundSketch make_round() const;
  // Fills `round` with the sketches of round `round_index`, drawn from the streams
  // (seed, round) and (seed, round, worker) of docs/theory.md §5.
  void draw(std::uint64_t seed, std::int64_t round_index, RoundSketch& round) const;
  const SketchSpec& spec() const { return spec_; }
  // The largest |S_i| any round can have.
  int max_support() const;

 private:
  void draw_perm(std::uint64_t seed, std::int64_t round_index, RoundSketch& round) const;
  void draw_rand(std::uint64_t seed, std::int64_t round_index, RoundSketch& round) const;
  double scale_of(int worker, int coordinate, double unbiased) const {
    return scale_value(spec_.scale, unbiased,
                       problem_ ? problem_->worker_diagonal_entry(worker, coordinate) : 1.0);
  }

  SketchSpec spec_;
  const Quadratic* problem_;
  int dim_;
  int num_workers_;
  int rand_q_;
  int layer_ = 0;
};

// Exact moments of one worker's c_i (docs/theory.md §2):
//   m1 = E[c_i],  M2[j][j] = second_diagonal[j],
//   M2[j][k] = pair_probability · pair_scale[j] · pair_scale[k]  for j ≠ k,
// where pair_probability = P(j, k ∈ S_i) and pair_scale[j] is c_ij when kept.
struct WorkerMoments {
  Vector first;
  Vector second_diagonal;
  Vector pair_scale;
  double pair_probability = 0.0;

  double second(int j, int k) const {
    return j == k ? second_diagonal[j] : pair_probability * pair_scale[j] * pair_scale[k];
  }
  DenseMatrix second_matrix() const;
};

// One worker's moments (3 d-vectors): theory computes them a worker at a time, so large
// problems never hold n of them at once.
WorkerMoments worker_moments(const SketchSpec& spec, const Quadratic& problem, int worker);
// Every worker's.
std::vector<WorkerMoments> sketch_moments(const SketchSpec& spec, const Quadratic& problem);

}  // namespace istlab
