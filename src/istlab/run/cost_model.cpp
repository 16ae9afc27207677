#include "istlab/run/cost_model.hpp"

#include <fmt/core.h>

#include <cmath>
#include <string_view>

namespace istlab {
namespace {

struct Preset {
  std::string_view name;
  double latency_s;
  double bandwidth_bits_per_s;
};

constexpr Preset kPresets[] = {
    {"datacenter", 5e-6, 100e9},
    {"ethernet", 50e-6, 1e9},
    {"wan", 20e-3, 10e6},
};

const Preset* preset(const std::string& name) {
  for (const auto& entry : kPresets)
    if (entry.name == name) return &entry;
  return nullptr;
}

// NaN (the preset's) or a positive finite number.
Rule preset_or_positive() {
  return Rule("> 0 and finite", [](const Value& value) {
    const double number = real_of(value);
    return std::isnan(number) || (number > 0.0 && std::isfinite(number))
               ? std::string()
               : std::string("must be positive (leave it out to use the preset's)");
  });
}

// "datacenter (5e-06 s, 1e+11 bit/s), ...": the presets (latency, bandwidth), for name's meaning.
std::string preset_list() {
  std::string text;
  for (const auto& entry : kPresets)
    text += fmt::format("{}{} ({:g} s, {:g} bit/s)", text.empty() ? "" : ", ", entry.name,
                        entry.latency_s, entry.bandwidth_bits_per_s);
  return text;
}

}  // namespace

std::vector<std::string> network_names() {
  return {"none", "datacenter", "ethernet", "wan", "custom"};
}
std::vector<std::string> topology_names() { return {"server", "allreduce"}; }

std::vector<NameAndMeaning> network_meanings() {
  std::vector<NameAndMeaning> list = {{"none", "no network model: model_time_s is empty"}};
  for (const auto& entry : kPresets)
    list.push_back(
        {std::string(entry.name), fmt::format("latency {:g} s, bandwidth {:g} bit/s",
                                              entry.latency_s, entry.bandwidth_bits_per_s)});
  list.push_back({"custom", "give network.latency_s and network.bandwidth_bits_per_s"});
  return list;
}

const std::vector<Parameter<CostModel>>& cost_parameters() {
  static const std::vector<Parameter<CostModel>> table = {
      keyed_when_set(field("name", &CostModel::network, one_of("a network", network_names),
                           "network", "net", true))
          .means("the network that prices a round into model_time_s: none (no modelled time), "
                 "a preset: " +
                 preset_list() + ", or custom (give latency_s and bandwidth_bits_per_s)"),
      keyed_when_set(
          field("latency_s", &CostModel::latency_s, preset_or_positive(), "latency_s", "lat", true))
          .means("seconds per message; overrides the preset's")
          .default_shown("the preset's"),
      keyed_when_set(field("bandwidth_bits_per_s", &CostModel::bandwidth_bits_per_s,
                           preset_or_positive(), "bandwidth_bits_per_s", "bw", true))
          .means("bits per second of each worker's link; overrides the preset's")
          .default_shown("the preset's"),
      keyed_when_set(field("bytes_per_float", &CostModel::bytes_per_float,
                           Rule("4 or 8",
                                [](const Value& value) {
                                  return int_of(value) == 4 || int_of(value) == 8
                                             ? std::string()
                                             : "must be 4 or 8";
                                }),
                           "bytes_per_float", "bpf", true))
          .means("bytes per float sent: 4 (float32, as networks train) or 8"),
      keyed_when_set(field("flops_per_second", &CostModel::flops_per_second, greater_than(0),
                           "flops_per_second", "rate", true))
          .means("a worker's flop rate, pricing a round's compute (a fixed number, not this "
                 "machine's)"),
      keyed_when_set(field("topology", &CostModel::topology, one_of("a topology", topology_names),
                           "topology", "topo", true))
          .means("server (every worker on its own link to a server) or allreduce (a ring; for gd "
                 "and local_sgd, the sketched methods keep the server)"),
  };
  return table;
}

double CostModel::latency() const {
  if (!std::isnan(latency_s)) return latency_s;
  const Preset* found = preset(network);
  return found ? found->latency_s : std::numeric_limits<double>::quiet_NaN();
}

double CostModel::bandwidth() const {
  if (!std::isnan(bandwidth_bits_per_s)) return bandwidth_bits_per_s;
  const Preset* found = preset(network);
  return found ? found->bandwidth_bits_per_s : std::numeric_limits<double>::quiet_NaN();
}

void CostModel::validate() const {
  check_all(cost_parameters(), *this);
  // Values given without a model would be silently unused.
  const CostModel defaults;
  if (!enabled())
    for (const auto& parameter : cost_parameters())
      if (format_value(parameter.get(*this)) != format_value(parameter.get(defaults)))
        throw ParameterError(parameter.name, format_value(parameter.get(*this)),
                             "has no effect without a network model: give name (a preset such "
                             "as ethernet, or custom)",
                             {"name"});
  if (network == "custom" && std::isnan(latency_s))
    throw ParameterError("latency_s", "", "is needed with name: custom", {"name"});
  if (network == "custom" && std::isnan(bandwidth_bits_per_s))
    throw ParameterError("bandwidth_bits_per_s", "", "is needed with name: custom", {"name"});
}

double CostModel::round_seconds(const RoundCounts& counts, int num_workers) const {
  const double compute = counts.max_flops / flops_per_second;
  const double seconds_per_float = bytes_per_float * 8.0 / bandwidth();
  if (topology == "allreduce") {
    const double steps = 2.0 * (num_workers - 1);
    return compute + steps * latency() +
           steps / num_workers * counts.max_floats_up * seconds_per_float;
  }
  return compute + 2.0 * latency() +
         (counts.max_floats_down + counts.max_floats_up) * seconds_per_float;
}

}  // namespace istlab
