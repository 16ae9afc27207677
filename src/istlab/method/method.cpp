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

StepUnit gradient_descent_unit(const MethodSpec&) { return StepUnit::kGradientDescent; }
bool no_fixed_point(const MethodSpec&) { return false; }
void check_nothing(const MethodSpec&) {}

struct MethodEntry {
  std::string_view name;
  std::string_view meaning;               // a line for `istlab list`
  std::vector<std::string_view> options;  // the option parameters it reads besides `method`
  bool sketched = false;                  // false: the sketch is ignored
  // Its round on a quadratic (a Method) and on a network.
  std::unique_ptr<Method> (*make)(const MethodSpec&, const Quadratic&, int max_support);
  NetworkRule on_network;
  double (*bytes)(const MethodSpec&, double dim, double num_workers);  // buffers at the peak
  bool trains_submodels = false;  // on a network: each worker a submodel of its sketch's units
  StepUnit (*step_unit)(const MethodSpec&) = gradient_descent_unit;
  bool (*has_fixed_point)(const MethodSpec&) = no_fixed_point;
  void (*check)(const MethodSpec&) = check_nothing;  // rules across options; throws ParameterError

  bool reads(std::string_view option) const {
    return option == "method" || std::find(options.begin(), options.end(), option) != options.end();
  }
};

// One line a method: its file (gd.hpp, ...) holds its rounds and what it costs.
const std::vector<MethodEntry>& methods() {
  static const std::vector<MethodEntry> registry = {
      {.name = "gd",
       .meaning = "distributed gradient descent: every worker sends its full gradient",
       .options = {"batch_size"},
       .make = make_gd,
       .on_network = gd_on_network,
       .bytes = gd_bytes},
      {.name = "dcgd",
       .meaning = "compressed gradients: worker i sends C_i ∇f_i(x), its gradient sketched",
       .options = {"batch_size"},
       .sketched = true,
       .make = make_dcgd,
       .on_network = dcgd_on_network,
       .bytes = dcgd_bytes},
      {.name = "ist",
       .meaning = "Independent Subnetwork Training: worker i computes on its submodel C_i x",
       .options = {"outer_sketch", "local_steps", "batch_size"},
       .sketched = true,
       .make = make_ist,
       .on_network = ist_on_network,
       .bytes = ist_bytes,
       .trains_submodels = true,
       .step_unit = ist_step_unit,
       .has_fixed_point = ist_has_fixed_point,
       .check = check_ist},
      {.name = "local_sgd",
       .meaning = "local steps on the whole model, then the workers' models averaged",
       .options = {"local_steps", "batch_size"},
       .make = make_local_sgd,
       .on_network = local_sgd_on_network,
       .bytes = local_sgd_bytes},
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

std::vector<NameAndMeaning> method_meanings() {
  std::vector<NameAndMeaning> list;
  for (const auto& entry : methods())
    list.push_back({std::string(entry.name), std::string(entry.meaning)});
  return list;
}

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
      field("local_steps", &MethodSpec::local_steps, between(1, kMaxLocalSteps), "local_steps",
            "tau")
          .means("τ, local steps per round: ist's (Algorithm 1; τ > 1 needs outer_sketch: true) "
                 "and local_sgd's before averaging; at most 10^6 (a longer round is more rounds)"),
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
    if (entry.reads(parameter.name)) parameter.check(*this);
  entry.check(*this);
}

StepUnit step_unit(const MethodSpec& spec) { return entry_of(spec.name).step_unit(spec); }
double resolve_step(const MethodSpec& spec, bool relative, double value,
                    double gradient_descent_unit, double ist_unit) {
  if (!relative) return value;
  return value * (step_unit(spec) == StepUnit::kIst ? ist_unit : gradient_descent_unit);
}
bool has_fixed_point(const MethodSpec& spec) { return entry_of(spec.name).has_fixed_point(spec); }
bool can_allreduce(const MethodSpec& spec) {
  // The sketched methods send each worker's own coordinates (dcgd's up, ist's both ways).
  return !entry_of(spec.name).sketched;
}

double method_bytes(const MethodSpec& spec, double dim, double num_workers) {
  return entry_of(spec.name).bytes(spec, dim, num_workers);
}

double network_round_bytes(const MethodSpec& spec, const SketchSpec& sketch, const MlpShape& shape,
                           int num_workers, double samples) {
  const MethodEntry& entry = entry_of(spec.name);
  std::vector<int> kept;  // per hidden layer
  double sketches = 0.0;
  for (std::size_t l = 0; l < shape.hidden.size(); ++l) {
    const int width = shape.hidden[l];
    const int support = Sketcher(sketch, width, num_workers, static_cast<int>(l)).max_support();
    kept.push_back(entry.trains_submodels ? support : width);
    if (entry.sketched) sketches += sketch_bytes(support, width, num_workers);
  }
  return network_workers_bytes(shape, num_workers, kept, samples, spec.batch_size) + sketches;
}

bool method_reads(std::string_view method, std::string_view option,
                  const std::vector<std::string_view>& unread_here) {
  const MethodEntry& entry = entry_of(method);
  if (find_parameter(sketch_parameters(), option) != nullptr) return entry.sketched;
  return entry.reads(option) &&
         std::find(unread_here.begin(), unread_here.end(), option) == unread_here.end();
}

void reset_unread(MethodSpec& spec, SketchSpec& sketch,
                  const std::vector<std::string_view>& unread_here) {
  const MethodEntry& entry = entry_of(spec.name);
  reset_unread(method_parameters(), spec, [&](std::string_view option) {
    return method_reads(spec.name, option, unread_here);
  });
  if (!entry.sketched) sketch = SketchSpec{};
}

NetworkRound::NetworkRound(const NetworkData& data, const MethodSpec& spec,
                           const SketchSpec& sketch, double step_size)
    : spec_(spec),
      workers_(data, sketch, spec.batch_size, step_size),
      rule_(entry_of(spec.name).on_network) {}

double sketch_bytes(double support, double dim, double num_workers) {
  return num_workers * support * (8 + 4) + dim * 4;
}
double perm_block(double dim, double num_workers) {
  return std::max(1.0, std::ceil(dim / num_workers));
}

std::unique_ptr<Method> make_method(const MethodSpec& spec, const Quadratic& problem,
                                    const Sketcher& sketcher) {
  spec.validate();
  return entry_of(spec.name).make(spec, problem, sketcher.max_support());
}

}  // namespace istlab
