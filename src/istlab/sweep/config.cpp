#include "istlab/sweep/config.hpp"

#include <fmt/core.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include "istlab/io/files.hpp"
#include "istlab/method/method.hpp"
#include "istlab/param/suggest.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/sweep/yaml_hints.hpp"

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

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::string path_of(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

constexpr long long kMaxConfigBytes = 1 << 20;

// Refuses a config, or a file name, that is not UTF-8 before any work: both go into
// manifest.json, which is UTF-8.
void check_utf8(const std::string& path, const std::string& text) {
  if (const std::size_t at = invalid_utf8_offset(path); at != std::string::npos)
    throw ConfigError(path, {}, "", std::nullopt,
                      fmt::format("the file name is not UTF-8 (byte 0x{:02X} at position {}); "
                                  "rename the file",
                                  static_cast<unsigned char>(path[at]), at + 1));
  const std::size_t at = invalid_utf8_offset(text);
  if (at == std::string::npos) return;
  const std::size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
  const Location where{
      static_cast<int>(
          std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n')) +
          1,
      static_cast<int>(line_start == std::string::npos || at == 0 ? at + 1 : at - line_start)};
  throw ConfigError(path, where, "", std::nullopt,
                    fmt::format("byte 0x{:02X} is not UTF-8; a sweep config is UTF-8 text",
                                static_cast<unsigned char>(text[at])));
}

// Parser events, ignored: documents are counted without building them.
class IgnoreEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The documents in `text`, counting at most 2. Not YAML::LoadAll: yaml-cpp 0.7's LoadAll
// allocates without end on a stray ',' (jbeder/yaml-cpp#1040).
int document_count(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  IgnoreEvents ignore;
  int documents = 0;
  while (documents < 2 && parser.HandleNextDocument(ignore)) ++documents;
  return documents;
}

// Decodes one file; every failure carries the file, line, column and key path.
class Decoder {
 public:
  explicit Decoder(SweepConfig& config) : config_(config) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& rule,
                         std::optional<std::string> value = {}) const {
    // A key a --set override gave is that override's fault, not the file's.
    for (const auto& override_text : config_.overrides) {
      const std::string given = override_text.substr(0, override_text.find('='));
      if (key == given || key.starts_with(given + ".") || key.starts_with(given + "["))
        throw ConfigError("--set " + override_text, {}, key, std::move(value), rule);
    }
    throw ConfigError(config_.path, location_of(node), key, std::move(value), rule);
  }

  void check_keys(const YAML::Node& map, const std::string& where,
                  const std::vector<std::string>& allowed) {
    if (!map.IsMap()) fail(map, where, "is not a mapping", shown(map));
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar())
        fail(entry.first, where.empty() ? "(top level)" : where, "a key must be a plain name",
             shown(entry.first));
      const std::string key = entry.first.Scalar();
      if (!seen.insert(key).second)
        fail(entry.first, path_of(where, key), fmt::format("key '{}' appears twice", key));
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        // A key merged in from `quick:` has no mark of its own; its value does.
        const YAML::Node& at = entry.first.Mark().is_null() ? entry.second : entry.first;
        fail(at, path_of(where, key),
             fmt::format("unknown key '{}'{}; allowed here: {}", key, did_you_mean(key, allowed),
                         joined(allowed)));
      }
    }
  }

  // The node of `key` in `map` (remembering where it stands), or an undefined node.
  YAML::Node child(const YAML::Node& map, const std::string& where, const std::string& key) {
    YAML::Node node = map[key];
    if (node.IsDefined()) config_.locations[path_of(where, key)] = location_of(node);
    return node;
  }

  // One scalar of `type`.
  Value scalar(const YAML::Node& node, const std::string& key, ValueType type) {
    static const char* const kTypeNames[] = {"true or false", "an integer", "a number", "a string"};
    const char* expected = kTypeNames[static_cast<int>(type)];
    if (!node.IsScalar() || node.Tag() == "tag:yaml.org,2002:null" ||
        (node.Tag() == "?" && node.Scalar() == "~"))
      fail(node, key, fmt::format("is not {}", expected), shown(node));
    try {
      switch (type) {
        case ValueType::kBool:
          return node.as<bool>();
        case ValueType::kInt:
          return static_cast<std::int64_t>(node.as<long long>());
        case ValueType::kReal: {
          const double value = node.as<double>();
          if (!std::isfinite(value)) fail(node, key, "is not a finite number", node.Scalar());
          return value;
        }
        case ValueType::kText: {
          // YAML's "\0" makes a NUL byte, which would cut a path short when the file is
          // opened ("d.csv\0junk" read d.csv) and go raw into every CSV and the manifest.
          std::string text = node.Scalar();
          if (text.find('\0') != std::string::npos) {
            for (std::size_t at; (at = text.find('\0')) != std::string::npos;)
              text.replace(at, 1, "\\0");
            fail(node, key, "holds a NUL byte (\\0), which no name, path or label may hold", text);
          }
          return text;
        }
      }
    } catch (const YAML::BadConversion&) {
    }
    fail(node, key, fmt::format("is not {}", expected), node.Scalar());
  }

  // A scalar or a non-empty list of scalars, each of `type` and allowed by `rule`.
  std::vector<Value> axis(
      const YAML::Node& node, const std::string& key, ValueType type, const Rule& rule,
      std::int64_t max_int = std::numeric_limits<std::int64_t>::max(),
      const std::map<std::string, std::string, std::less<>>* old_spellings = nullptr) {
    std::vector<YAML::Node> items;
    if (node.IsSequence()) {
      if (node.size() == 0)
        fail(node, key, "an empty list sweeps over nothing; give at least one value");
      for (const auto& item : node) items.push_back(item);
    } else {
      items.push_back(node);
    }
    std::vector<Value> values;
    for (const auto& item : items) {
      Value value = scalar(item, key, type);
      if (old_spellings != nullptr && type == ValueType::kText)
        if (const auto current = old_spellings->find(text_of(value));
            current != old_spellings->end())
          value = current->second;
      std::string broken = rule(value);
      if (broken.empty() && type == ValueType::kInt && int_of(value) > max_int)
        broken = "is out of range";
      if (!broken.empty()) fail(item, key, broken, item.Scalar());
      values.push_back(std::move(value));
    }
    return values;
  }

  // Every parameter of `table` found in `node` (a `problem:` or `methods:` entry).
  template <class Spec>
  void axes(const YAML::Node& node, const std::string& where,
            const std::vector<Parameter<Spec>>& table, Axes& out) {
    for (const auto& parameter : table)
      if (auto v = child(node, where, parameter.name))
        out[parameter.name] = axis(v, path_of(where, parameter.name), parameter.type,
                                   parameter.rule, parameter.max_int, &parameter.old_spellings);
  }

  // A `run:` option: one value, not a list.
  template <class Spec>
  Value run_option(const YAML::Node& node, const std::string& key,
                   const Parameter<Spec>& parameter) {
    if (node.IsSequence()) fail(node, key, "is a list; run options take one value", shown(node));
    return axis(node, key, parameter.type, parameter.rule, parameter.max_int,
                &parameter.old_spellings)
        .front();
  }

  std::vector<std::uint64_t> seeds(const YAML::Node& node, const std::string& key) {
    std::vector<std::uint64_t> seeds;
    for (const auto& seed : axis(node, key, ValueType::kInt, at_least(0)))
      seeds.push_back(static_cast<std::uint64_t>(int_of(seed)));
    return seeds;
  }

  StepSizeAxis step_size(const YAML::Node& node, const std::string& key) {
    StepSizeAxis result;
    if (node.IsMap()) {
      check_keys(node, key, {"relative", "absolute"});
      if (node.size() != 1) fail(node, key, "give exactly one of 'relative' or 'absolute'");
      result.relative = node["relative"].IsDefined();
    }
    const YAML::Node values = node.IsMap() ? node[result.relative ? "relative" : "absolute"] : node;
    for (const auto& value : axis(values, key, ValueType::kReal, greater_than(0)))
      result.values.push_back(real_of(value));
    return result;
  }

 private:
  SweepConfig& config_;
};

// One key's values across a list of group entries (maps, or a value that sets the group's
// first key when `first` is true): the entry's value, or `fallback` (the default) where the
// entry does not give it. A list inside an entry is refused: each entry is one point.
YAML::Node entry_values(Decoder& decoder, const YAML::Node& entries, const std::string& key,
                        const std::string& tail, bool first, const std::string& fallback) {
  YAML::Node values(YAML::NodeType::Sequence);
  for (const YAML::Node& entry : entries) {
    std::optional<YAML::Node> value;
    if (entry.IsMap() && entry[tail]) {
      value = entry[tail];
    } else if (!entry.IsMap() && first) {
      value = entry;
    }
    if (value && !value->IsScalar())
      decoder.fail(*value, key,
                   "inside a list of entries each key has one value (list the entries instead)",
                   std::nullopt);
    values.push_back(value ? *value : YAML::Node(fallback));
  }
  return values;
}

// The keys of a section whose parameter names nest by their dots ("record.every" is
// `record: {every: ...}`); calls found(parameter, value node, key path) for each one given.
// A value where a group is expected sets the group's first key: `tolerance: 1e-8` is
// `tolerance: {rel_err: 1e-8}`, `dataset: fashion_mnist` is `dataset: {name: fashion_mnist}`.
// A list of maps (or of such values) where a group is expected sweeps the group entry by
// entry: each of its keys gets one value per entry (its default where an entry lacks it), and
// bundle(keys) is told that they vary together.
template <class Spec, class Found>
void nested_keys(Decoder& decoder, const YAML::Node& node, const std::string& where,
                 const std::vector<Parameter<Spec>>& table, const std::vector<std::string>& extra,
                 Found found,
                 const std::function<void(std::vector<std::string>)>& bundle = nullptr) {
  std::vector<std::string> top;
  std::map<std::string, std::vector<std::string>> groups;  // "record" → {"every", "log_points"}
  for (const auto& parameter : table) {
    const auto dot = parameter.name.find('.');
    const std::string head = parameter.name.substr(0, dot);
    if (std::find(top.begin(), top.end(), head) == top.end()) top.push_back(head);
    if (dot != std::string::npos) groups[head].push_back(parameter.name.substr(dot + 1));
  }
  top.insert(top.end(), extra.begin(), extra.end());
  decoder.check_keys(node, where, top);
  std::set<std::string> listed;  // groups given as a list of maps
  for (const auto& [group, keys] : groups) {
    const YAML::Node v = decoder.child(node, where, group);
    if (v && v.IsMap()) decoder.check_keys(v, path_of(where, group), keys);
    if (!v || !v.IsSequence() || bundle == nullptr ||
        std::none_of(v.begin(), v.end(), [](const YAML::Node& item) { return item.IsMap(); }))
      continue;
    listed.insert(group);
    for (const auto& item : v)
      if (item.IsMap()) decoder.check_keys(item, path_of(where, group), keys);
  }
  for (const auto& parameter : table) {
    const auto dot = parameter.name.find('.');
    const std::string head = parameter.name.substr(0, dot);
    const std::string tail = dot == std::string::npos ? "" : parameter.name.substr(dot + 1);
    const YAML::Node group = decoder.child(node, where, head);
    if (!group) continue;
    if (listed.count(head)) {
      found(parameter,
            entry_values(decoder, group, path_of(where, parameter.name), tail,
                         tail == groups[head].front(), format_value(parameter.get(Spec{}))),
            path_of(where, parameter.name));
      continue;
    }
    // (YAML::Node's assignment writes into the tree, so each node gets its own variable.)
    if (!tail.empty() && group.IsMap()) {
      if (const YAML::Node value = decoder.child(group, path_of(where, head), tail))
        found(parameter, value, path_of(where, parameter.name));
    } else if (tail.empty() || tail == groups[head].front()) {
      found(parameter, group, path_of(where, head));
    }
  }
  for (const auto& head : listed) {
    std::vector<std::string> keys;
    for (const auto& tail : groups[head]) keys.push_back(path_of(where, head + "." + tail));
    bundle(std::move(keys));
  }
}

// A relative data path is read from the config file's folder, wherever istlab is run from
// (the manifest records the path resolved).
void resolve_data_paths(SweepConfig& config) {
  const std::filesystem::path folder = std::filesystem::path(config.path).parent_path();
  if (folder.empty()) return;
  for (const char* name :
       {"dataset.path", "dataset.labels", "test_dataset.path", "test_dataset.labels"}) {
    const auto found = config.problem.find(name);
    if (found == config.problem.end()) continue;
    for (Value& value : found->second) {
      const std::string path = text_of(value);
      if (!path.empty() && std::filesystem::path(path).is_relative())
        value = (folder / path).lexically_normal().string();
    }
  }
}

void decode_problem(Decoder& decoder, const YAML::Node& node, SweepConfig& config) {
  nested_keys(
      decoder, node, "problem", problem_parameters(), {"seed"},
      [&](const Parameter<ProblemSpec>& parameter, const YAML::Node& value,
          const std::string& key) {
        config.problem[parameter.name] = decoder.axis(value, key, parameter.type, parameter.rule,
                                                      parameter.max_int, &parameter.old_spellings);
      },
      [&](std::vector<std::string> keys) { config.bundles.push_back(std::move(keys)); });
  if (auto v = decoder.child(node, "problem", "seed"))
    config.problem_seed = decoder.seeds(v, "problem.seed");
  resolve_data_paths(config);
}

// `network: wan` (or a list of names) names the preset; a map gives any cost_parameters().
void decode_network(Decoder& decoder, const YAML::Node& node, SweepConfig& config) {
  auto found = [&](const Parameter<CostModel>& parameter, const YAML::Node& value,
                   const std::string& key) {
    config.network[parameter.name] = decoder.axis(value, key, parameter.type, parameter.rule,
                                                  parameter.max_int, &parameter.old_spellings);
  };
  if (!node.IsMap()) return found(cost_parameters().front(), node, "network");
  nested_keys(decoder, node, "network", cost_parameters(), {}, found);
}

MethodAxes decode_method(Decoder& decoder, const YAML::Node& node, const std::string& where) {
  std::vector<std::string> allowed;
  for (const auto& parameter : method_parameters()) allowed.push_back(parameter.name);
  for (const auto& parameter : sketch_parameters()) allowed.push_back(parameter.name);
  allowed.push_back("step_size");
  decoder.check_keys(node, where, allowed);
  if (!node["method"])
    decoder.fail(node, where,
                 fmt::format("missing key 'method'; valid methods: {}", joined(method_names())));
  MethodAxes axes;
  axes.where = where;
  decoder.axes(node, where, method_parameters(), axes.values);
  decoder.axes(node, where, sketch_parameters(), axes.values);
  if (auto v = decoder.child(node, where, "step_size"))
    axes.step_size = decoder.step_size(v, where + ".step_size");
  return axes;
}

// `run:` keys, one value each.
void decode_run(Decoder& decoder, const YAML::Node& node, RunOptions& run) {
  nested_keys(
      decoder, node, "run", run_parameters(), {},
      [&](const Parameter<RunOptions>& parameter, const YAML::Node& value, const std::string& key) {
        parameter.set(run, decoder.run_option(value, key, parameter));
      });
}

std::vector<std::string> zippable_keys() {
  std::vector<std::string> keys;
  for (const auto& parameter : problem_parameters())
    if (parameter.zippable) keys.push_back("problem." + parameter.name);
  keys.push_back("problem.seed");
  keys.push_back("seeds");
  for (const auto& parameter : cost_parameters())
    if (parameter.zippable) keys.push_back("network." + parameter.name);
  return keys;
}

// `problem.dataset` stands for its group's first key, `problem.dataset.name`, as it does in
// the problem section.
std::string zip_key(const std::string& key) {
  for (const auto& parameter : problem_parameters()) {
    const auto dot = parameter.name.find('.');
    if (dot != std::string::npos && key == "problem." + parameter.name.substr(0, dot))
      return "problem." + parameter.name;
  }
  return key;
}

// The length of `key`'s list in `config`; 0 for a key that cannot be zipped.
std::size_t zippable_length(const SweepConfig& config, const std::string& key) {
  if (key == "seeds") return config.seeds.size();
  if (key == "problem.seed") return config.problem_seed.size();
  for (const auto& parameter : problem_parameters())
    if (parameter.zippable && key == "problem." + parameter.name)
      return SweepConfig::values_of(config.problem, parameter).size();
  for (const auto& parameter : cost_parameters())
    if (parameter.zippable && key == "network." + parameter.name)
      return SweepConfig::values_of(config.network, parameter).size();
  return 0;
}

void decode_zip(Decoder& decoder, const YAML::Node& node, SweepConfig& config) {
  if (!node.IsSequence() || node.size() == 0)
    decoder.fail(node, "zip",
                 "expected a list of keys, e.g. [problem.dim, problem.num_workers], or a list of "
                 "such lists");
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
      decoder.fail(group, "zip", "a zip group needs at least two keys", shown(group));
    std::vector<std::string> keys;
    std::size_t length = 0;
    for (const auto& item : group) {
      const std::string key = zip_key(text_of(decoder.scalar(item, "zip", ValueType::kText)));
      const std::size_t size = zippable_length(config, key);
      if (size == 0)
        decoder.fail(item, "zip",
                     fmt::format("cannot be zipped; zippable keys: {}", joined(zippable_keys())),
                     key);
      if (!used.insert(key).second)
        decoder.fail(item, "zip", "appears in more than one zip group", key);
      if (!keys.empty() && size != length)
        decoder.fail(
            item, "zip",
            fmt::format("'{}' has {} values but '{}' has {}; zipped lists need equal lengths", key,
                        size, keys.front(), length));
      keys.push_back(key);
      length = size;
    }
    config.zip.push_back(std::move(keys));
  }
}

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

const std::vector<std::string> kTopKeys = {"experiment", "description", "problem", "methods",
                                           "step_size",  "seeds",       "repeats", "zip",
                                           "run",        "network",     "quick"};

// Applies (or only checks) the `quick:` section.
void apply_quick(Decoder& decoder, YAML::Node& root, const std::string& text,
                 const std::string& path, bool quick) {
  const YAML::Node overrides = root["quick"];
  if (!overrides) {
    if (quick)
      throw ConfigError(path, {1, 1}, "quick", std::nullopt,
                        "--quick needs a 'quick:' section in the config");
    return;
  }
  // Check the quick variant now too, so a typo in it fails before the full sweep runs.
  if (!quick) parse_config(text, path, true);
  decoder.check_keys(overrides, "quick",
                     std::vector<std::string>(kTopKeys.begin() + 2, kTopKeys.end() - 1));
  if (quick) {
    // `seeds` and `repeats` exclude each other, so a quick choice of one drops the other.
    if (overrides["seeds"]) root.remove("repeats");
    if (overrides["repeats"]) root.remove("seeds");
    merge_overrides(root, overrides);
  }
  root.remove("quick");
}

// `--set KEY=VALUE`: VALUE (YAML) replaces KEY (dotted: problem.num_workers) in the tree,
// making the maps on its way where they are missing or are not maps.
void apply_override(YAML::Node& root, const std::string& text) {
  const auto equals = text.find('=');
  auto refuse = [&](const std::string& why) {
    throw ConfigError("--set " + text, {}, "", std::nullopt, why);
  };
  if (equals == std::string::npos || equals == 0)
    refuse("expected KEY=VALUE, e.g. --set problem.num_workers=8 or --set 'seeds=[1, 2]'");
  std::vector<std::string> path;
  for (std::size_t start = 0; start <= equals;) {
    const std::size_t dot = std::min(text.find('.', start), equals);
    if (dot == start) refuse("a key's parts are names separated by single dots");
    path.push_back(text.substr(start, dot - start));
    start = dot + 1;
  }
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(equals + 1));
  } catch (const YAML::Exception& error) {
    refuse("the value is not valid YAML: " + error.msg);
  }
  YAML::Node at = root;  // (reset() rebinds a node; assignment would write through it)
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    if (!at[path[i]] || !at[path[i]].IsMap()) at[path[i]] = YAML::Node(YAML::NodeType::Map);
    YAML::Node next = at[path[i]];
    at.reset(next);
  }
  at[path.back()] = value;
}

// The experiment names a folder under --out: nothing that could leave it.
bool safe_folder_name(const std::string& name) {
  return !name.empty() && name.size() <= 200 && name[0] != '.' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
         });
}
constexpr const char* kFolderRule =
    "must be a folder name of letters, digits, '_', '-' and '.', not starting with '.'";

void decode_experiment(Decoder& decoder, const YAML::Node& root, SweepConfig& config) {
  if (auto v = decoder.child(root, "", "experiment")) {
    config.experiment = text_of(decoder.scalar(v, "experiment", ValueType::kText));
    if (!safe_folder_name(config.experiment))
      decoder.fail(v, "experiment", kFolderRule, config.experiment);
  } else if (!safe_folder_name(config.experiment)) {
    throw ConfigError(config.path, {1, 1}, "experiment", config.experiment,
                      std::string(kFolderRule) +
                          " (it comes from the file name when 'experiment:' is absent: add one)");
  }
  if (auto v = decoder.child(root, "", "description"))
    config.description = text_of(decoder.scalar(v, "description", ValueType::kText));
}

void decode_methods(Decoder& decoder, const YAML::Node& root, SweepConfig& config) {
  const YAML::Node methods = decoder.child(root, "", "methods");
  if (!methods)
    throw ConfigError(config.path, {1, 1}, "methods", std::nullopt,
                      "missing; list at least one entry such as '- method: ist'");
  if (!methods.IsSequence() || methods.size() == 0)
    decoder.fail(methods, "methods",
                 "expected a non-empty list of entries such as '- method: ist'");
  for (std::size_t i = 0; i < methods.size(); ++i) {
    const std::string where = fmt::format("methods[{}]", i);
    config.locations[where] = location_of(methods[i]);
    config.methods.push_back(decode_method(decoder, methods[i], where));
  }
  if (auto v = decoder.child(root, "", "step_size"))
    config.step_size = decoder.step_size(v, "step_size");
  for (const auto& entry : config.methods)
    if (!entry.step_size && !config.step_size)
      decoder.fail(methods, entry.where,
                   "no step_size: give one at the top level or in this entry");
}

void decode_seeds(Decoder& decoder, const YAML::Node& root, SweepConfig& config) {
  if (auto v = decoder.child(root, "", "seeds")) config.seeds = decoder.seeds(v, "seeds");
  if (auto v = decoder.child(root, "", "repeats")) {
    if (root["seeds"]) decoder.fail(v, "repeats", "give either 'seeds' or 'repeats', not both");
    const std::int64_t repeats = int_of(decoder.scalar(v, "repeats", ValueType::kInt));
    if (repeats < 1 || repeats > kMaxGridCells)
      decoder.fail(v, "repeats", fmt::format("must be at least 1 and at most {}", kMaxGridCells),
                   v.Scalar());
    config.seeds.clear();
    for (std::int64_t seed = 0; seed < repeats; ++seed)
      config.seeds.push_back(static_cast<std::uint64_t>(seed));
  }
}

}  // namespace

ConfigError::ConfigError(std::string file_, Location at_, std::string key_,
                         std::optional<std::string> value_, std::string rule_, bool is_default_)
    : std::runtime_error(printable(fmt::format(
          "{}{}{}: {}{}", file_, at_.line > 0 ? fmt::format(":{}:{}", at_.line, at_.column) : "",
          key_.empty() ? "" : ": " + key_,
          value_ ? fmt::format("value '{}' {}", *value_, is_default_ ? "(the default) " : "") : "",
          rule_))),
      file(std::move(file_)),
      at(at_),
      key(std::move(key_)),
      value(std::move(value_)),
      rule(std::move(rule_)),
      is_default(is_default_) {}

Location SweepConfig::locate(const std::string& key,
                             const std::vector<std::string>& related) const {
  std::vector<std::string> candidates = {key};
  candidates.insert(candidates.end(), related.begin(), related.end());
  // Then the enclosing sections: "methods[1].sketch" → "methods[1]".
  for (std::string section = key; section.find('.') != std::string::npos;) {
    section.resize(section.rfind('.'));
    candidates.push_back(section);
  }
  for (const auto& candidate : candidates) {
    const auto found = locations.find(candidate);
    if (found != locations.end() && found->second.line > 0) return found->second;
  }
  return {1, 1};
}

void SweepConfig::fail(const std::string& key, const std::string& rule,
                       std::optional<std::string> value,
                       const std::vector<std::string>& related) const {
  // A value nobody wrote is a default: say so, and point at the key that made it wrong.
  const bool is_default = value && !locations.count(key);
  throw ConfigError(path, locate(key, related), key, std::move(value), rule, is_default);
}

SweepConfig parse_config(const std::string& text, const std::string& path, bool quick,
                         const std::vector<std::string>& overrides) {
  SweepConfig config;
  config.path = path;
  config.text = text;
  config.overrides = overrides;
  config.experiment = std::filesystem::path(path).stem().string();
  Decoder decoder(config);

  check_utf8(path, text);
  YAML::Node root;
  try {
    root = YAML::Load(text);
    if (root.IsMap() && document_count(text) > 1)
      throw ConfigError(path, {1, 1}, "", std::nullopt,
                        "holds more than one YAML document; a sweep config is one");
  } catch (const YAML::DeepRecursion& error) {
    throw ConfigError(path, {error.mark.line + 1, error.mark.column + 1}, "", std::nullopt,
                      fmt::format("malformed YAML: nested deeper than {} levels", error.depth()));
  } catch (const YAML::ParserException& error) {
    // yaml-cpp says where it gave up ("end of map flow not found"); the cause is often
    // elsewhere, such as the '{' that was never closed.
    const std::string parser_says = fmt::format("{} at line {}, column {}", error.msg,
                                                error.mark.line + 1, error.mark.column + 1);
    if (const auto hint = find_yaml_fault(text))
      throw ConfigError(
          path, hint->at, "", std::nullopt,
          fmt::format("malformed YAML: {} (the parser: {})", hint->what, parser_says));
    const std::string indentation = error.msg.starts_with("illegal map value")
                                        ? map_value_hint(text, error.mark.line + 1)
                                    : error.msg.starts_with("end of map not found") ||
                                            error.msg.starts_with("end of sequence not found")
                                        ? indentation_hint(text, error.mark.line + 1)
                                        : "";
    throw ConfigError(
        path, {error.mark.line + 1, error.mark.column + 1}, "", std::nullopt,
        "malformed YAML: " + error.msg + (indentation.empty() ? "" : ": " + indentation));
  }
  if (const auto hint = find_yaml_fault(text); hint && hint->even_if_parsed)
    throw ConfigError(path, hint->at, "", std::nullopt, "malformed YAML: " + hint->what);
  if (!root.IsMap())
    throw ConfigError(path, {1, 1}, "", std::nullopt,
                      "a sweep config is a mapping with at least 'methods' and 'step_size'");
  decoder.check_keys(root, "", kTopKeys);
  apply_quick(decoder, root, text, path, quick);
  config.quick = quick;
  for (const auto& override_text : overrides) apply_override(root, override_text);

  decode_experiment(decoder, root, config);
  if (auto v = decoder.child(root, "", "problem")) decode_problem(decoder, v, config);
  if (auto v = decoder.child(root, "", "network")) decode_network(decoder, v, config);
  decode_methods(decoder, root, config);
  decode_seeds(decoder, root, config);
  if (auto v = decoder.child(root, "", "zip")) decode_zip(decoder, v, config);
  // A group given as a list of maps varies entry by entry: its keys join the zip group that
  // names one of them (zip: [problem.dataset, problem.num_workers]), or form their own.
  for (const auto& bundle : config.bundles) {
    auto joined_group = std::find_if(config.zip.begin(), config.zip.end(), [&](const auto& keys) {
      return std::any_of(bundle.begin(), bundle.end(), [&](const std::string& key) {
        return std::find(keys.begin(), keys.end(), key) != keys.end();
      });
    });
    if (joined_group == config.zip.end()) {
      config.zip.push_back(bundle);
      continue;
    }
    for (const auto& key : bundle)
      if (std::find(joined_group->begin(), joined_group->end(), key) == joined_group->end())
        joined_group->push_back(key);
  }
  if (auto v = decoder.child(root, "", "run")) decode_run(decoder, v, config.run);
  try {
    config.run.validate();  // rules across run options
  } catch (const ParameterError& error) {
    std::vector<std::string> related;
    for (const auto& name : error.related) related.push_back("run." + name);
    config.fail("run." + error.name, error.rule, error.value, related);
  }
  return config;
}

// The keys decoded above without a parameter table (kTopKeys, problem.seed, step_size's forms).
const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    // "problem.*" when every parameter of a section can be zipped, else its zippable keys.
    auto zippable_in = [](const auto& table, const std::string& section) {
      std::vector<std::string> zippable;
      for (const auto& parameter : table)
        if (parameter.zippable) zippable.push_back(section + "." + parameter.name);
      return zippable.size() == table.size() ? section + ".*" : joined(zippable);
    };
    const std::string zip_keys = zippable_in(problem_parameters(), "problem") +
                                 ", problem.seed, seeds, " +
                                 zippable_in(cost_parameters(), "network");
    const std::string step_rule = "> 0";
    return std::vector<ConfigKey>{
        {"experiment", "text", "the file name without .yaml",
         std::string(kFolderRule).substr(std::string_view("must be ").size()) +
             ", at most 200 characters",
         "", "the results folder: the sweep writes OUT/<experiment>/"},
        {"description", "text", "", "any", "", "free text, copied to manifest.json"},
        {"problem.seed", "integer or list", "each cell's seed", "≥ 0", "problem_seed",
         "draws the problem from these seeds while seeds draw the sketches, so repeats can share "
         "one problem"},
        {"methods", "list of mappings", "required", "at least one entry, each with a method", "",
         "the methods run on every problem: each entry's lists form a grid of their own, the "
         "entries a union of grids"},
        {"methods[].step_size", "as step_size", "the top-level step_size", step_rule,
         "step_size, relative_step", "this entry's step sizes, instead of the top-level step_size"},
        {"step_size", "number or list", "required (here or in every methods entry)", step_rule,
         "step_size", "absolute step sizes γ; a map gives step_size.relative or .absolute"},
        {"step_size.absolute", "number or list", "", step_rule, "step_size",
         "absolute step sizes γ (the same as a plain step_size)"},
        {"step_size.relative", "number or list", "", step_rule, "step_size, relative_step",
         "multiples of each method's theoretical step: 1/λ_max(E[B̄]) for ist with the outer "
         "sketch, 1/λ_max(L̄) for the others (quadratics only)"},
        {"seeds", "integer or list", "[0]", "≥ 0", "seed",
         "the seeds of the sketches and, without problem.seed, of the problems (their order "
         "does not matter: a cell's key holds its seed, not its place)"},
        {"repeats", "integer", "", fmt::format("1 to {}", kMaxGridCells), "seed",
         "N: the seeds 0, 1, …, N − 1 (instead of seeds)"},
        {"zip", "list of keys, or list of such lists", "", "groups of at least 2 of: " + zip_keys,
         "",
         "keys whose lists advance together instead of forming a product (equal lengths; a key "
         "in one group at most)"},
        {"quick", "mapping", "",
         "keys of: " + joined(std::vector<std::string>(kTopKeys.begin() + 2, kTopKeys.end() - 1)),
         "",
         "overrides applied by --quick (a smaller sweep, for tests): maps merge key by key, seeds "
         "and repeats replace each other; checked even when not applied"},
        {"network", "text or mapping", "none", one_of("a network", network_names).allowed(),
         "network", "a preset's name, short for network.name; or a mapping of the network.* keys"},
    };
  }();
  return keys;
}

SweepConfig load_config(const std::string& path, bool quick,
                        const std::vector<std::string>& overrides) {
  // Only a regular file of bounded size: a FIFO would block, /dev/zero never ends.
  const FileRead file = read_regular_file(path, kMaxConfigBytes);
  std::string why;
  switch (file.problem) {
    case FileRead::Problem::kNone:
      return parse_config(file.text, path, quick, overrides);
    case FileRead::Problem::kUnreadable:
      why = "cannot open the config file: no such file, or unreadable";
      break;
    case FileRead::Problem::kFolder:
      why = "is a folder, not a config file";
      break;
    case FileRead::Problem::kNotRegular:
      why = "is not a regular file";
      break;
    case FileRead::Problem::kTooLarge:
      why = fmt::format("is {} bytes; a sweep config is at most {} bytes", file.size,
                        kMaxConfigBytes);
      break;
    case FileRead::Problem::kGrew:
      why = fmt::format("grew past {} bytes while being read", kMaxConfigBytes);
      break;
  }
  throw ConfigError(path, {}, "", std::nullopt, why);
}

}  // namespace istlab
