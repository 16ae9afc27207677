// The method registry: one line per method.

#include <fmt/core.h>

#include <array>
#include <stdexcept>

#include "istlab/method/methods.hpp"

namespace istlab {
namespace {

struct MethodEntry {
  std::string_view name;
  std::unique_ptr<Method> (*make)(const MethodSpec&, const Quadratic&, int max_support);
};

constexpr std::array kMethods = {
    MethodEntry{"gd", [](const MethodSpec&, const Quadratic& problem, int) -> std::unique_ptr<Method> {
                  return std::make_unique<GradientDescent>(problem);
                }},
    MethodEntry{"dcgd", [](const MethodSpec&, const Quadratic& problem, int max_support) -> std::unique_ptr<Method> {
                  return std::make_unique<CompressedGradientDescent>(problem, max_support);
                }},
    MethodEntry{"ist", [](const MethodSpec& spec, const Quadratic& problem, int max_support) -> std::unique_ptr<Method> {
                  return std::make_unique<IndependentSubnetworkTraining>(problem, spec, max_support);
                }},
};

const MethodEntry* find_method(std::string_view name) {
  for (const auto& entry : kMethods)
    if (entry.name == name) return &entry;
  return nullptr;
}

}  // namespace

std::string method_names() {
  std::string names;
  for (const auto& entry : kMethods) {
    if (!names.empty()) names += ", ";
    names += entry.name;
  }
  return names;
}

bool is_method(std::string_view name) { return find_method(name) != nullptr; }

void MethodSpec::validate() const {
  if (!is_method(name))
    throw std::invalid_argument(fmt::format("method = {}: unknown method; valid: {}", name, method_names()));
  if (local_steps < 1)
    throw std::invalid_argument(fmt::format("local_steps = {}: must be at least 1", local_steps));
  if (local_steps > 1 && !outer_sketch)
    throw std::invalid_argument(fmt::format(
        "local_steps = {}: Algorithm 1's local steps are sketched, so they need outer_sketch: true",
        local_steps));
}

std::unique_ptr<Method> make_method(const MethodSpec& spec, const Quadratic& problem,
                                    const Sketcher& sketcher) {
  spec.validate();
  return find_method(spec.name)->make(spec, problem, sketcher.max_support());
}

}  // namespace istlab
