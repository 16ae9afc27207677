#include "istlab/run/workload.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>
#include <variant>

#include "istlab/data/split.hpp"
#include "istlab/io/csv.hpp"

namespace istlab {
namespace {

// One kind per alternative of ProblemFamily::make: a new alternative does not compile until
// it names its kind here.
struct KindOf {
  const WorkloadKind& operator()(MakeQuadratic) const { return quadratic_kind(); }
  const WorkloadKind& operator()(MakeNetwork) const { return network_kind(); }
};

}  // namespace

void add_data_facts(const LabelClasses& classes,
                    const std::vector<std::vector<std::int64_t>>& samples, ProblemFacts& facts) {
  const auto histograms =
      label_histograms(classes.class_of_sample, static_cast<int>(classes.values.size()), samples);
  for (std::size_t worker = 0; worker < samples.size(); ++worker) {
    facts.workers[worker].samples = static_cast<std::int64_t>(samples[worker].size());
    if (!classes.by_label) continue;
    std::string& text = facts.workers[worker].label_counts;
    for (std::size_t c = 0; c < classes.values.size(); ++c)
      if (histograms[worker][c] > 0)
        text += fmt::format("{}{}:{}", text.empty() ? "" : " ", format_number(classes.values[c]),
                            histograms[worker][c]);
  }
}

const std::vector<const WorkloadKind*>& workload_kinds() {
  static const std::vector<const WorkloadKind*> kinds = {&quadratic_kind(), &network_kind()};
  return kinds;
}

const WorkloadKind& workload_kind(const ProblemFamily& family) {
  return std::visit(KindOf{}, family.make);
}

std::unique_ptr<Workload> make_workload(const ProblemSpec& spec, const ProblemInputs& inputs) {
  const ProblemFamily& family = problem_family(spec.generator);
  return workload_kind(family).build(family, spec, inputs);
}

void check_step_size(double step_size) {
  if (!(step_size > 0.0) || !std::isfinite(step_size))
    throw std::invalid_argument(
        fmt::format("step_size = {}: must be positive and finite", step_size));
}

}  // namespace istlab
