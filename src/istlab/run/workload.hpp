#pragma once
// A workload is what building a problem gives a sweep: a quadratic, a network, or whatever
// kind comes next. It answers for its facts (problems.csv), its theory where it has one, and
// its run; its kind answers, before anything is built, which method options mean something
// on it and which run settings it refuses. The kinds are the alternatives of
// ProblemFamily::make (problem/generators.hpp), each in its own file:
//   quadratic  run/quadratic_workload.cpp   (docs/theory.md §1-§4: theory, x*, every metric)
//   network    run/network_workload.cpp     (problem/network_problem.hpp: no theory, no x*)

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "istlab/data/catalog.hpp"
#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/run/run.hpp"
#include "istlab/sketch/sketch.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {

// What a sweep reports of a problem, computed once when it is built: per worker
// ‖∇f_i(x*)‖² (NaN without an optimum), and for a family built from data the worker's
// samples and label counts.
struct WorkerFacts {
  double grad_norm2_at_optimum = 0.0;
  std::int64_t samples = -1;  // -1: not from data
  std::string label_counts;   // "label:count ..." over the labels the worker holds
};
struct ProblemFacts {
  double zeta2 = 0.0;  // ζ² = (1/n) Σ_i ‖∇f_i(x*)‖², the heterogeneity at the optimum
  // The regularization λ the problem holds, resolved (relative_regularization × λ_max of
  // the data term, for least squares); NaN where the family has none.
  double regularization = std::numeric_limits<double>::quiet_NaN();
  std::vector<WorkerFacts> workers;
};

// Sets each worker's sample count and label counts from the split.
void add_data_facts(const LabelClasses& classes,
                    const std::vector<std::vector<std::int64_t>>& samples, ProblemFacts& facts);

// run.record_iterates writes d numbers per recorded round: only for small problems.
inline constexpr int kMaxRecordedIterateDim = 1024;

// One run a cell asks of its workload.
struct RunRequest {
  MethodSpec method;
  SketchSpec sketch;
  bool relative_step = false;
  double step_value = 0.0;  // absolute, or a multiple of the method's theoretical step
  std::uint64_t seed = 0;
};

// One run, and what every cell priced from it records next to it.
struct Trajectory {
  RunResult run;
  double step_size = 0.0;
  const Theory* theory = nullptr;       // null where the kind has none or it failed
  Vector solution;                      // x*; empty without one
  const Vector* fixed_point = nullptr;  // x^∞ where it describes the method
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual const ProblemFacts& facts() const = 0;
  // Computes the theory of each distinct sketch the runs will use, in parallel, before any
  // run; a kind without theory does nothing. A theory that fails fails only the runs that
  // need it.
  virtual void prepare_theories(const std::vector<SketchSpec>& sketches) = 0;
  // Throws std::exception (bad input, a theory a relative step needed that failed).
  virtual Trajectory run(const RunRequest& request, const RunOptions& options) const = 0;
};

// A rule between a kind and a cell's run settings, broken: the key as a config writes it
// ("step_size", "run.tolerance.rel_err") and why.
struct RunRuleBroken {
  std::string key;
  std::string rule;
};

struct WorkloadKind {
  std::string_view name;
  // Method options that mean nothing on this kind (batch_size on a quadratic's exact
  // gradients); a cell resets them, so cells that differ only there are one.
  std::vector<std::string_view> unread_method_options;
  // The first rule the cell's settings break, or nullopt.
  std::optional<RunRuleBroken> (*check)(const ProblemSpec& spec, const RunOptions& run,
                                        bool relative_step);
  std::unique_ptr<Workload> (*build)(const ProblemFamily& family, const ProblemSpec& spec,
                                     const ProblemInputs& inputs);
  // Bytes one run holds at its peak besides its records (the method's buffers, the running
  // model, the metrics' scratch), for the sweep's memory estimate.
  double (*run_bytes)(const ProblemSpec& spec, const MethodSpec& method, const SketchSpec& sketch);
};

const WorkloadKind& quadratic_kind();
const WorkloadKind& network_kind();
// Every kind, in the order of ProblemFamily::make's alternatives.
const std::vector<const WorkloadKind*>& workload_kinds();
// The kind a family builds (by the alternative of its `make`).
const WorkloadKind& workload_kind(const ProblemFamily& family);

// Builds the spec's problem as its family's kind of workload. Throws what building throws.
std::unique_ptr<Workload> make_workload(const ProblemSpec& spec, const ProblemInputs& inputs);

// x^{k+1} = x^k is not a run: a step must be positive and finite (throws otherwise).
void check_step_size(double step_size);

}  // namespace istlab
