#include "istlab/io/config.hpp"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"

namespace istlab {
namespace {

Location location_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string shown(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter emitter;
  emitter.SetMapFormat(YAML::Flow);
  emitter.SetSeqFormat(YAML::Flow);
  emitter << node;
  return emitter.c_str();
}

// Decodes one file; every failure carries the file, line, column and key path.
class Decoder {
 public:
  explicit Decoder(SweepConfig& config) : config_(config) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& message) const {
    const Location at = location_of(node);
    throw ConfigError(fmt::format("{}:{}:{}: {}: {}", config_.path, at.line, at.column, key, message));
  }

  void check_keys(const YAML::Node& map, const std::string& where, const std::vector<std::string>& allowed) {
    if (!map.IsMap()) fail(map, where, fmt::format("expected a mapping, got '{}'", shown(map)));
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar())
        fail(entry.first, where.empty() ? "(top level)" : where, fmt::format("a key must be a plain name, got '{}'", shown(entry.first)));
      const std::string key = entry.first.Scalar();
      if (!seen.insert(key).second)
        fail(entry.first, where.empty() ? key : where + "." + key, fmt::format("key '{}' appears twice", key));
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string valid;
        for (const auto& name : allowed) valid += (valid.empty() ? "" : ", ") + name;
        // A key merged in from `quick:` has no mark of its own; its value does.
        const YAML::Node& at = entry.first.Mark().is_null() ? entry.second : entry.first;
        fail(at, where.empty() ? key : where + "." + key, fmt::format("unknown key '{}'; allowed here: {}", key, valid));
      }
    }
  }

  // The node of `key` in `map` (remembering where it stands), or an undefined node.
  YAML::Node child(const YAML::Node& map, const std::string& where, const std::string& key) {
    YAML::Node node = map[key];
    if (node.IsDefined()) config_.locations[path(where, key)] = location_of(node);
    return node;
  }

  static std::string path(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
  }

  template <class T>
  T scalar(const YAML::Node& node, const std::string& key) {
    if (!node.IsScalar() || node.Tag() == "tag:yaml.org,2002:null" || (node.Tag() == "?" && node.Scalar() == "~"))
      fail(node, key, fmt::format("expected {}, got '{}'", type_name<T>(), shown(node)));
    try {
      if constexpr (std::is_same_v<T, bool>) {
        return node.as<bool>();
      } else if constexpr (std::is_same_v<T, std::string>) {
        return node.Scalar();
      } else if constexpr (std::is_integral_v<T>) {
        const auto value = node.as<long long>();
        if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max())
          fail(node, key, fmt::format("value {} is out of range", node.Scalar()));
        return static_cast<T>(value);
      } else {
        const double value = node.as<double>();
        if (!std::isfinite(value)) fail(node, key, fmt::format("value '{}' is not a finite number", node.Scalar()));
        return value;
      }
    } catch (const YAML::BadConversion&) {
      fail(node, key, fmt::format("expected {}, got '{}'", type_name<T>(), node.Scalar()));
    }
  }

  // A scalar or a non-empty list of scalars, each checked by `check` (returns "" when fine).
  template <class T>
  std::vector<T> axis(const YAML::Node& node, const std::string& key,
                      const std::function<std::string(const T&)>& check = nullptr) {
    std::vector<YAML::Node> items;
    if (node.IsSequence()) {
      if (node.size() == 0) fail(node, key, "an empty list sweeps over nothing; give at least one value");
      for (const auto& item : node) items.push_back(item);
    } else {
      items.push_back(node);
    }
    std::vector<T> values;
    for (const auto& item : items) {
      T value = scalar<T>(item, key);
      if (check) {
        const std::string problem = check(value);
        if (!problem.empty()) fail(item, key, fmt::format("value '{}' {}", item.Scalar(), problem));
      }
      values.push_back(std::move(value));
    }
    return values;
  }

  template <class T>
  static std::string type_name() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    if constexpr (std::is_same_v<T, std::string>) return "a string";
    if constexpr (std::is_integral_v<T>) return "an integer";
    return "a number";
  }

  StepSizeAxis step_size(const YAML::Node& node, const std::string& key) {
    StepSizeAxis result;
    YAML::Node values = node;
    if (node.IsMap()) {
      check_keys(node, key, {"relative", "absolute"});
      if (node.size() != 1) fail(node, key, "give exactly one of 'relative' or 'absolute'");
      result.relative = node["relative"].IsDefined();
      values = node[result.relative ? "relative" : "absolute"];
    }
    result.values = axis<double>(values, key, [](const double& v) {
      return v > 0.0 ? "" : "must be positive";
    });
    return result;
  }

 private:
  SweepConfig& config_;
};

const auto positive_int = [](const int& v) { return v >= 1 ? std::string() : std::string("must be at least 1"); };
const auto non_negative_int = [](const int& v) { return v >= 0 ? std::string() : std::string("must be at least 0"); };

template <class Parse>
auto names_check(Parse parse) {
  return [parse](const std::string& text) -> std::string {
    try {
      parse(text);
      return "";
    } catch (const std::invalid_argument& error) {
      const std::string message = error.what();
      return "is not allowed: " + message.substr(message.find(';') + 2);
    }
  };
}

void decode_problem(Decoder& decoder, const YAML::Node& node, SweepConfig& config) {
  decoder.check_keys(node, "problem", {"generator", "dim", "num_workers", "heterogeneity", "interpolation", "kappa", "mu", "seed"});
  if (auto v = decoder.child(node, "problem", "generator"))
    config.generator = decoder.axis<std::string>(v, "problem.generator", [](const std::string& name) {
      return is_generator(name) ? "" : "is not a generator; valid: " + generator_names();
    });
  if (auto v = decoder.child(node, "problem", "dim")) config.dim = decoder.axis<int>(v, "problem.dim", positive_int);
  if (auto v = decoder.child(node, "problem", "num_workers"))
    config.num_workers = decoder.axis<int>(v, "problem.num_workers", positive_int);
  if (auto v = decoder.child(node, "problem", "heterogeneity"))
    config.heterogeneity = decoder.axis<double>(v, "problem.heterogeneity", [](const double& h) {
      return h >= 0.0 ? "" : "must be at least 0";
    });
  if (auto v = decoder.child(node, "problem", "interpolation"))
    config.interpolation = decoder.axis<bool>(v, "problem.interpolation");
  if (auto v = decoder.child(node, "problem", "kappa"))
    config.kappa = decoder.axis<double>(v, "problem.kappa", [](const double& k) {
      return k >= 1.0 ? "" : "must be at least 1";
    });
  if (auto v = decoder.child(node, "problem", "mu"))
    config.mu = decoder.axis<double>(v, "problem.mu", [](const double& m) {
      return m > 0.0 ? "" : "must be positive";
    });
  if (auto v = decoder.child(node, "problem", "seed")) {
    config.problem_seed.clear();
    for (const auto seed : decoder.axis<long long>(v, "problem.seed", [](const long long& s) {
           return s >= 0 ? std::string() : std::string("must be at least 0");
         }))
      config.problem_seed.push_back(static_cast<std::uint64_t>(seed));
  }
}

MethodAxes decode_method(Decoder& decoder, const YAML::Node& node, const std::string& where) {
  decoder.check_keys(node, where, {"method", "sketch", "scale", "rand_q", "outer_sketch", "local_steps", "step_size"});
  MethodAxes axes;
  axes.where = where;
  const YAML::Node method = decoder.child(node, where, "method");
  if (!method) decoder.fail(node, where, fmt::format("missing key 'method'; valid methods: {}", method_names()));
  axes.method = decoder.axis<std::string>(method, where + ".method", [](const std::string& name) {
    return is_method(name) ? "" : "is not a method; valid: " + method_names();
  });
  if (auto v = decoder.child(node, where, "sketch")) {
    axes.sketch.clear();
    for (const auto& text : decoder.axis<std::string>(v, where + ".sketch", names_check(parse_sketch_type)))
      axes.sketch.push_back(parse_sketch_type(text));
  }
  if (auto v = decoder.child(node, where, "scale")) {
    axes.scale.clear();
    for (const auto& text : decoder.axis<std::string>(v, where + ".scale", names_check(parse_sketch_scale)))
      axes.scale.push_back(parse_sketch_scale(text));
  }
  if (auto v = decoder.child(node, where, "rand_q")) axes.rand_q = decoder.axis<int>(v, where + ".rand_q", non_negative_int);
  if (auto v = decoder.child(node, where, "outer_sketch")) axes.outer_sketch = decoder.axis<bool>(v, where + ".outer_sketch");
  if (auto v = decoder.child(node, where, "local_steps"))
    axes.local_steps = decoder.axis<int>(v, where + ".local_steps", positive_int);
  if (auto v = decoder.child(node, where, "step_size")) axes.step_size = decoder.step_size(v, where + ".step_size");
  return axes;
}

void decode_run(Decoder& decoder, const YAML::Node& node, RunOptions& run) {
  decoder.check_keys(node, "run", {"max_iters", "tolerance", "floats_budget", "max_seconds",
                                   "divergence_factor", "record", "record_iterates"});
  if (auto v = decoder.child(node, "run", "record_iterates")) run.record_iterates = decoder.scalar<bool>(v, "run.record_iterates");
  // A number under `where.key`, checked by `accept`.
  auto number = [&](const YAML::Node& map, const std::string& where, const char* key,
                    const std::string& rule, auto accept) {
    const YAML::Node v = decoder.child(map, where, key);
    if (!v) return std::optional<double>();
    const std::string path = Decoder::path(where, key);
    const auto value = decoder.scalar<double>(v, path);
    if (!accept(value)) decoder.fail(v, path, fmt::format("value '{}' {}", v.Scalar(), rule));
    return std::optional<double>(value);
  };
  const std::string off_rule = "must be at least 0 (0 turns it off)";
  const auto non_negative = [](double x) { return x >= 0; };
  if (auto v = decoder.child(node, "run", "max_iters")) {
    run.max_iters = decoder.scalar<std::int64_t>(v, "run.max_iters");
    if (run.max_iters < 1) decoder.fail(v, "run.max_iters", fmt::format("value '{}' must be at least 1", v.Scalar()));
  }
  if (const YAML::Node tolerance = node["tolerance"]; tolerance && tolerance.IsMap()) {
    decoder.child(node, "run", "tolerance");
    decoder.check_keys(tolerance, "run.tolerance", {"rel_err", "f_gap", "grad_norm2"});
    if (auto v = number(tolerance, "run.tolerance", "rel_err", off_rule, non_negative)) run.tolerance = *v;
    if (auto v = number(tolerance, "run.tolerance", "f_gap", off_rule, non_negative)) run.f_gap_tolerance = *v;
    if (auto v = number(tolerance, "run.tolerance", "grad_norm2", off_rule, non_negative))
      run.grad_norm2_tolerance = *v;
  } else if (auto v = number(node, "run", "tolerance", off_rule, non_negative)) {
    run.tolerance = *v;  // a plain number is a tolerance on rel_err
  }
  if (auto v = number(node, "run", "floats_budget", off_rule, non_negative)) run.floats_budget = *v;
  if (auto v = number(node, "run", "max_seconds", off_rule, non_negative)) run.max_seconds = *v;
  if (auto v = number(node, "run", "divergence_factor", "must be greater than 1", [](double x) { return x > 1; }))
    run.divergence_factor = *v;
  if (auto record = decoder.child(node, "run", "record")) {
    decoder.check_keys(record, "run.record", {"every", "log_points"});
    if (auto v = decoder.child(record, "run.record", "every")) {
      run.record_every = decoder.scalar<std::int64_t>(v, "run.record.every");
      if (run.record_every < 1) decoder.fail(v, "run.record.every", fmt::format("value '{}' must be at least 1", v.Scalar()));
    }
    if (auto v = decoder.child(record, "run.record", "log_points")) {
      run.record_log_points = decoder.scalar<int>(v, "run.record.log_points");
      if (run.record_log_points < 2)
        decoder.fail(v, "run.record.log_points", fmt::format("value '{}' must be at least 2", v.Scalar()));
    }
  }
}

// Keys that may be zipped, with the length of their list in `config`.
std::size_t zippable_length(const SweepConfig& config, const std::string& key) {
  if (key == "problem.generator") return config.generator.size();
  if (key == "problem.dim") return config.dim.size();
  if (key == "problem.num_workers") return config.num_workers.size();
  if (key == "problem.heterogeneity") return config.heterogeneity.size();
  if (key == "problem.interpolation") return config.interpolation.size();
  if (key == "problem.kappa") return config.kappa.size();
  if (key == "problem.mu") return config.mu.size();
  if (key == "problem.seed") return config.problem_seed.size();
  if (key == "seeds") return config.seeds.size();
  return 0;
}

void decode_zip(Decoder& decoder, const YAML::Node& node, SweepConfig& config) {
  const std::string valid =
      "problem.generator, problem.dim, problem.num_workers, problem.heterogeneity, "
      "problem.interpolation, problem.kappa, problem.mu, problem.seed, seeds";
  if (!node.IsSequence() || node.size() == 0)
    decoder.fail(node, "zip", "expected a list of keys, e.g. [problem.dim, problem.num_workers], or a list of such lists");
  // One group `[a, b]` or several `[[a, b], [c, d]]`.
  std::vector<YAML::Node> groups;
  if (node[0].IsSequence()) {
    for (const auto& group : node) groups.push_back(group);
  } else {
    groups.push_back(node);
  }
  std::set<std::string> used;
  for (const auto& group : groups) {
    if (!group.IsSequence() || group.size() < 2)
      decoder.fail(group, "zip", fmt::format("a zip group needs at least two keys, got '{}'", shown(group)));
    std::vector<std::string> keys;
    std::size_t length = 0;
    for (const auto& item : group) {
      const std::string key = decoder.scalar<std::string>(item, "zip");
      const std::size_t size = zippable_length(config, key);
      if (size == 0) decoder.fail(item, "zip", fmt::format("'{}' cannot be zipped; zippable keys: {}", key, valid));
      if (!used.insert(key).second) decoder.fail(item, "zip", fmt::format("'{}' appears in more than one zip group", key));
      if (!keys.empty() && size != length)
        decoder.fail(item, "zip", fmt::format("'{}' has {} values but '{}' has {}; zipped lists need equal lengths",
                                              key, size, keys.front(), length));
      keys.push_back(key);
      length = size;
    }
    config.zip.push_back(std::move(keys));
  }
}

}  // namespace

void SweepConfig::fail(const std::string& key, const std::string& message) const {
  const auto found = locations.find(key);
  const Location at = found == locations.end() ? Location{} : found->second;
  throw ConfigError(fmt::format("{}:{}:{}: {}: {}", path, at.line, at.column, key, message));
}

namespace {

// Replaces keys of `target` by those of `overrides`, merging nested maps key by key.
void merge_overrides(YAML::Node target, const YAML::Node& overrides) {
  for (const auto& entry : overrides) {
    const std::string key = entry.first.Scalar();
    YAML::Node existing = target[key];
    if (existing && existing.IsMap() && entry.second.IsMap()) {
      merge_overrides(existing, entry.second);
    } else {
      target[key] = entry.second;
    }
  }
}

}  // namespace

SweepConfig parse_config(const std::string& text, const std::string& path, bool quick) {
  SweepConfig config;
  config.path = path;
  config.text = text;
  config.experiment = std::filesystem::path(path).stem().string();
  Decoder decoder(config);

  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& error) {
    throw ConfigError(fmt::format("{}:{}:{}: malformed YAML: {}", path, error.mark.line + 1,
                                  error.mark.column + 1, error.msg));
  }
  if (!root.IsMap()) throw ConfigError(fmt::format("{}:1:1: a sweep config is a mapping with at least 'methods' and 'step_size'", path));
  const std::vector<std::string> top_keys = {"experiment", "description", "problem", "methods", "step_size",
                                             "seeds", "repeats", "zip", "run", "quick"};
  decoder.check_keys(root, "", top_keys);
  if (const YAML::Node overrides = root["quick"]) {
    // Check the quick variant now too, so a typo in it fails before the full sweep runs.
    if (!quick) parse_config(text, path, true);
    decoder.check_keys(overrides, "quick", std::vector<std::string>(top_keys.begin() + 2, top_keys.end() - 1));
    if (quick) {
      // `seeds` and `repeats` exclude each other, so a quick choice of one drops the other.
      if (overrides["seeds"]) root.remove("repeats");
      if (overrides["repeats"]) root.remove("seeds");
      merge_overrides(root, overrides);
    }
    root.remove("quick");
  } else if (quick) {
    throw ConfigError(fmt::format("{}:1:1: quick: --quick needs a 'quick:' section in the config", path));
  }
  config.quick = quick;

  if (auto v = decoder.child(root, "", "experiment")) {
    config.experiment = decoder.scalar<std::string>(v, "experiment");
    const bool safe = !config.experiment.empty() &&
                      std::all_of(config.experiment.begin(), config.experiment.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                      }) && config.experiment[0] != '.';
    if (!safe) decoder.fail(v, "experiment", fmt::format("value '{}' must be a folder name of letters, digits, '_', '-' and '.'", config.experiment));
  }
  if (auto v = decoder.child(root, "", "description")) config.description = decoder.scalar<std::string>(v, "description");
  if (auto v = decoder.child(root, "", "problem")) decode_problem(decoder, v, config);

  const YAML::Node methods = decoder.child(root, "", "methods");
  if (!methods) throw ConfigError(fmt::format("{}:1:1: methods: missing; list at least one entry such as '- method: ist'", path));
  if (!methods.IsSequence() || methods.size() == 0)
    decoder.fail(methods, "methods", "expected a non-empty list of entries such as '- method: ist'");
  for (std::size_t i = 0; i < methods.size(); ++i)
    config.methods.push_back(decode_method(decoder, methods[i], fmt::format("methods[{}]", i)));

  if (auto v = decoder.child(root, "", "step_size")) config.step_size = decoder.step_size(v, "step_size");
  for (const auto& entry : config.methods)
    if (!entry.step_size && !config.step_size)
      decoder.fail(methods, entry.where, "no step_size: give one at the top level or in this entry");

  if (auto v = decoder.child(root, "", "seeds")) {
    config.seeds.clear();
    for (const auto seed : decoder.axis<long long>(v, "seeds", [](const long long& s) {
           return s >= 0 ? "" : "must be at least 0";
         }))
      config.seeds.push_back(static_cast<std::uint64_t>(seed));
  }
  if (auto v = decoder.child(root, "", "repeats")) {
    if (root["seeds"]) decoder.fail(v, "repeats", "give either 'seeds' or 'repeats', not both");
    const int repeats = decoder.scalar<int>(v, "repeats");
    if (repeats < 1 || repeats > 10'000'000)
      decoder.fail(v, "repeats", fmt::format("value '{}' must be at least 1 and at most 10000000", v.Scalar()));
    config.seeds.clear();
    for (int seed = 0; seed < repeats; ++seed) config.seeds.push_back(static_cast<std::uint64_t>(seed));
  }
  if (auto v = decoder.child(root, "", "zip")) decode_zip(decoder, v, config);
  if (auto v = decoder.child(root, "", "run")) decode_run(decoder, v, config.run);
  return config;
}

SweepConfig load_config(const std::string& path, bool quick) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ConfigError(fmt::format("{}: cannot open the config file", path));
  std::ostringstream text;
  text << file.rdbuf();
  return parse_config(text.str(), path, quick);
}

}  // namespace istlab
