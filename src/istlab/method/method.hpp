#pragma once
// A method computes one round, nothing else (docs/theory.md §3); the loop lives in run/.
// Every method has the form x^{k+1} = x^k − γ·(1/n) Σ_i g_i^k, except IST with local
// steps, which runs the paper's Algorithm 1 literally.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "istlab/method/network_workers.hpp"
#include "istlab/method/round_stop.hpp"
#include "istlab/param/parameter.hpp"
#include "istlab/problem/quadratic.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {

// τ beyond this is no experiment anyone means: rounds are what the loop counts, records and
// stops between, so a million local steps are better spent as more rounds.
inline constexpr int kMaxLocalSteps = 1'000'000;

struct MethodSpec {
  std::string name = "gd";
  bool outer_sketch = true;  // ist: g_i = C_i ∇f_i(C_i x); false gives ∇f_i(C_i x)
  int local_steps = 1;       // ist and local_sgd: τ local steps per round
  int batch_size = 0;        // networks: samples per worker and local step; 0: all it holds

  // Throws ParameterError naming the field and value.
  void validate() const;
};

// `method`, `outer_sketch`, `local_steps` and `batch_size` of a `methods:` entry.
const std::vector<Parameter<MethodSpec>>& method_parameters();

class Method {
 public:
  virtual ~Method() = default;
  // Replaces x = x^k by x^{k+1}. Uses only buffers allocated at construction.
  virtual void step(const RoundSketch& sketch, double step_size, Vector& x) = 0;
  // The round's floats per worker (docs/theory.md §3's table) and flops per worker: 2 per entry of
  // L_i the worker reads (as if each worker computed on its own machine).
  virtual RoundCounts counts(const RoundSketch& sketch) const = 0;
  // What step() polls between local steps (round_stop.hpp); `stop` must outlive the rounds.
  void watch(const RoundStop& stop) { stop_ = &stop; }

 protected:
  const RoundStop* stop_ = &RoundStop::never();
};

// `sketcher` sizes the per-worker buffers; methods keep a reference to `problem`.
std::unique_ptr<Method> make_method(const MethodSpec& spec, const Quadratic& problem,
                                    const Sketcher& sketcher);
std::vector<std::string> method_names();
std::vector<NameAndMeaning> method_meanings();

// A method's round on a network, stated with the workers' shared steps (network_workers.hpp).
using NetworkRule = RoundCounts (*)(NetworkWorkers& workers, const MethodSpec& spec,
                                    std::uint64_t seed, std::int64_t round, NetworkModel& model);

// One method's rounds on a network: its rule over workers that hold the buffers.
class NetworkRound {
 public:
  NetworkRound(const NetworkData& data, const MethodSpec& spec, const SketchSpec& sketch,
               double step_size);
  // Replaces `model` by the next round's.
  RoundCounts run(std::uint64_t seed, std::int64_t round, NetworkModel& model) {
    return rule_(workers_, spec_, seed, round, model);
  }
  void watch(const RoundStop& stop) { workers_.watch(stop); }

 private:
  MethodSpec spec_;
  NetworkWorkers workers_;
  NetworkRule rule_;
};

// What a method's registry entry says about it, for the sweep and the theory columns.
// The step size that `step_size: {relative: r}` multiplies: 1/λ_max(L̄) or 1/λ_max(E[B̄]).
enum class StepUnit { kGradientDescent, kIst };
StepUnit step_unit(const MethodSpec& spec);
// The step a cell's `step_size` stands for: `value` itself, or (relative) `value` times the
// method's unit.
double resolve_step(const MethodSpec& spec, bool relative, double value,
                    double gradient_descent_unit, double ist_unit);
// Whether every worker sends the same dense vector, so a ring all-reduce can replace the
// server (run/cost_model.hpp's allreduce topology).
bool can_allreduce(const MethodSpec& spec);
// Whether IST's fixed point x^∞ = E[B̄]⁻¹E[c̄] (docs/theory.md §4) describes the method's mean
// iterate.
bool has_fixed_point(const MethodSpec& spec);
// Bytes of the method's buffers and the round's sketch for a problem of this size.
double method_bytes(const MethodSpec& spec, double dim, double num_workers);
// Bytes a NetworkRound of `spec` holds on a network of `shape` split among `num_workers`
// workers holding `samples` samples: its workers' buffers (each a submodel of the sketch's
// units for ist, the whole model for the others) and the round's sketch.
double network_round_bytes(const MethodSpec& spec, const SketchSpec& sketch, const MlpShape& shape,
                           int num_workers, double samples);
// For the methods' own estimates: a round's sketch (an index and a scale per kept
// coordinate, plus a permutation of [d]), and the largest block of a Perm sketch.
double sketch_bytes(double support, double dim, double num_workers);
double perm_block(double dim, double num_workers);
// Sets the options the method does not read, or that mean nothing on this kind of problem
// (`unread_here`, e.g. batch_size on a quadratic), to their defaults, and the sketch to the
// identity when the method ignores it, so cells that differ only there are one cell.
void reset_unread(MethodSpec& spec, SketchSpec& sketch,
                  const std::vector<std::string_view>& unread_here);
// Whether `method` reads `option` (a method_parameters() or sketch_parameters() name) on a
// kind of problem whose unread options are `unread_here`, as reset_unread decides. Throws
// ParameterError for an unknown method.
bool method_reads(std::string_view method, std::string_view option,
                  const std::vector<std::string_view>& unread_here);

}  // namespace istlab
