// The method registry: one entry per method, saying how to build it and what the sweep
// needs to know about it.

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "istlab/method/dcgd.hpp"
#include "istlab/method/gd.hpp"
#include "istlab/method/ist.hpp"
#include "istlab/method/local_sgd.hpp"

namespace istlab {
namespace {

struct MethodEntry {
  std::string_view name;
  std::unique_ptr<Method> (*make)(const MethodSpec&, const Quadratic&, int max_support);
  std::vector<std::string_view> options;          // option parameters it reads besides `method`
  std::vector<std::string_view> network_options;  // the same, on a network
  NetworkMethod network;                          // its round on a network
  bool sketched;                                  // false: the sketch is ignored
  StepUnit (*step_unit)(const MethodSpec&);
  bool (*has_fixed_point)(const MethodSpec&);
  void (*check)(const MethodSpec&);  // rules across options; throws ParameterError
  double (*bytes)(const MethodSpec&, double dim, double num_workers);  // buffers at the peak

  bool reads(std::string_view option, bool on_network) const {
    const auto& read = on_network ? network_options : options;
    return option == "method" || std::find(read.begin(), read.end(), option) != read.end();
  }
};

// A round's sketch: an index and a scale per kept coordinate, plus a permutation of [d].
double sketch_bytes(double support, double dim, double num_workers) {
  return num_workers * support * (8 + 4) + dim * 4;
}
double perm_block(double dim, double num_workers) {
  return std::max(1.0, std::ceil(dim / num_workers));
}

// A full gradient per worker.
double gd_bytes(const MethodSpec&, double dim, double num_workers) {
  return sketch_bytes(dim, dim, num_workers) + num_workers * dim * 8;
}
// Per worker: its kept rows' contributions, plus scratch of the same size.
double dcgd_bytes(const MethodSpec&, double dim, double num_workers) {
  const double support = perm_block(dim, num_workers);
  return sketch_bytes(support, dim, num_workers) + 3 * num_workers * support * 8;
}
// Submodels and contributions on S_i; without the outer sketch a full gradient per worker.
double ist_bytes(const MethodSpec& spec, double dim, double num_workers) {
  const double support = perm_block(dim, num_workers);
  return sketch_bytes(support, dim, num_workers) +
         (spec.outer_sketch ? 3 * num_workers * support * 8 : num_workers * dim * 8);
}

// A model and a gradient per worker, and their sum.
double local_sgd_bytes(const MethodSpec&, double dim, double num_workers) {
  return sketch_bytes(dim, dim, num_workers) + 3 * num_workers * dim * 8 + dim * 8;
}

StepUnit gradient_descent_unit(const MethodSpec&) { return StepUnit::kGradientDescent; }
bool no_fixed_point(const MethodSpec&) { return false; }
void check_nothing(const MethodSpec&) {}

// x^∞ and 1/λ_max(E[B̄]) describe IST's table form (SPEC §4). Without the outer sketch the
// mean step is L̄E[C]x − b̄ = ∇f for unbiased sketches, so GD's unit applies and there is no
// x^∞ to measure against; local steps keep IST's unit per step.
StepUnit ist_unit(const MethodSpec& spec) {
  return spec.outer_sketch ? StepUnit::kIst : StepUnit::kGradientDescent;
}
bool ist_fixed_point(const MethodSpec& spec) { return spec.outer_sketch && spec.local_steps == 1; }

void check_ist(const MethodSpec& spec) {
  if (spec.local_steps > 1 && !spec.outer_sketch)
    throw ParameterError("local_steps", std::to_string(spec.local_steps),
                         "needs outer_sketch: true (Algorithm 1's local steps are sketched)",
                         {"outer_sketch"});
}

const std::vector<MethodEntry>& methods() {
  static const std::vector<MethodEntry> registry = {
      {"gd",
       [](const MethodSpec&, const Quadratic& problem, int) -> std::unique_ptr<Method> {
         return std::make_unique<GradientDescent>(problem);
       },
       {},
       {"batch_size"},
       NetworkMethod::kGd,
       false,
       gradient_descent_unit,
       no_fixed_point,
       check_nothing,
       gd_bytes},
      {"dcgd",
       [](const MethodSpec&, const Quadratic& problem, int max_support) -> std::unique_ptr<Method> {
         return std::make_unique<CompressedGradientDescent>(problem, max_support);
       },
       {},
       {"batch_size"},
       NetworkMethod::kDcgd,
       true,
       gradient_descent_unit,
       no_fixed_point,
       check_nothing,
       dcgd_bytes},
      {"ist",
       [](const MethodSpec& spec, const Quadratic& problem,
          int max_support) -> std::unique_ptr<Method> {
         return std::make_unique<IndependentSubnetworkTraining>(problem, spec, max_support);
       },
       {"outer_sketch", "local_steps"},
       {"local_steps", "batch_size"},
       NetworkMethod::kIst,
       true,
       ist_unit,
       ist_fixed_point,
       check_ist,
       ist_bytes},
      {"local_sgd",
       [](const MethodSpec& spec, const Quadratic& problem, int) -> std::unique_ptr<Method> {
         return std::make_unique<LocalGradientDescent>(problem, spec);
       },
       {"local_steps"},
       {"local_steps", "batch_size"},
       NetworkMethod::kLocalSgd,
       false,
       gradient_descent_unit,
       no_fixed_point,
       check_nothing,
       local_sgd_bytes},
  };
  return registry;
}

const MethodEntry& entry_of(std::string_view name) {
  for (const auto& entry : methods())
    if (entry.name == name) return entry;
  throw ParameterError("method", std::string(name),
                       one_of("a method", method_names)(std::string(name)));
}

}  // namespace

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& entry : methods()) names.emplace_back(entry.name);
  return names;
}

const std::vector<Parameter<MethodSpec>>& method_parameters() {
  static const std::vector<Parameter<MethodSpec>> table = {
      field("method", &MethodSpec::name, one_of("a method", method_names), "method", "method")
          .means("the method: gd, dcgd (compressed gradients), ist (Independent Subnetwork "
                 "Training) or local_sgd (local steps, then the models averaged)")
          .default_shown("required"),
      field("outer_sketch", &MethodSpec::outer_sketch, any_value(), "outer_sketch", "outer")
          .means("ist: true sends g_i = C_i ∇f_i(C_i x) (the paper's IST); false gives "
                 "∇f_i(C_i x)"),
      field("local_steps", &MethodSpec::local_steps, at_least(1), "local_steps", "tau")
          .means("τ, local steps per round: ist's (Algorithm 1; τ > 1 needs outer_sketch: true) "
                 "and local_sgd's before averaging"),
      keyed_when_set(field("batch_size", &MethodSpec::batch_size,
                           at_least(0, " (0: all of a worker's samples)"), "batch_size", "batch"))
          .means("networks: samples per worker and local step, drawn without replacement"),
  };
  return table;
}

void MethodSpec::validate() const {
  const MethodEntry& entry = entry_of(name);
  // Options the method does not read are "not applicable" (NaN for numbers): not checked.
  for (const auto& parameter : method_parameters())
    if (entry.reads(parameter.name, false) || entry.reads(parameter.name, true))
      parameter.check(*this);
  entry.check(*this);
}

StepUnit step_unit(const MethodSpec& spec) { return entry_of(spec.name).step_unit(spec); }
bool has_fixed_point(const MethodSpec& spec) { return entry_of(spec.name).has_fixed_point(spec); }
bool can_allreduce(const MethodSpec& spec) {
  // The sketched methods send each worker's own coordinates (dcgd's up, ist's both ways).
  return !entry_of(spec.name).sketched;
}

double method_bytes(const MethodSpec& spec, double dim, double num_workers) {
  return entry_of(spec.name).bytes(spec, dim, num_workers);
}

void reset_unread(MethodSpec& spec, SketchSpec& sketch, bool on_network) {
  const MethodEntry& entry = entry_of(spec.name);
  reset_unread(method_parameters(), spec,
               [&](std::string_view option) { return entry.reads(option, on_network); });
  if (!entry.sketched) sketch = SketchSpec{};
}

bool method_reads(std::string_view method, std::string_view option, bool on_network) {
  const MethodEntry& entry = entry_of(method);
  if (find_parameter(sketch_parameters(), option) != nullptr) return entry.sketched;
  return entry.reads(option, on_network);
}

NetworkRoundSpec network_round_spec(const MethodSpec& spec, const SketchSpec& sketch,
                                    double step_size) {
  NetworkRoundSpec round;
  round.method = entry_of(spec.name).network;
  round.sketch = sketch;
  round.local_steps = spec.local_steps;
  round.batch_size = spec.batch_size;
  round.step_size = step_size;
  return round;
}

std::unique_ptr<Method> make_method(const MethodSpec& spec, const Quadratic& problem,
                                    const Sketcher& sketcher) {
  spec.validate();
  return entry_of(spec.name).make(spec, problem, sketcher.max_support());
}

}  // namespace istlab
