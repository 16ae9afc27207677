#include "istlab/sweep/reference.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "istlab/data/split.hpp"
#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/run/cost_model.hpp"
#include "istlab/run/run.hpp"
#include "istlab/run/workload.hpp"
#include "istlab/sketch/sketch.hpp"
#include "istlab/sweep/config.hpp"
#include "istlab/sweep/record.hpp"

namespace istlab {
namespace {

constexpr const char* kTopLevel = "top level";
const std::vector<std::string> kSections = {kTopLevel, "problem", "methods[]", "network", "run"};

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// "all" when every one of `names` passes `reads`, else those that do.
template <class Reads>
std::string readers(const std::vector<std::string>& names, Reads reads) {
  std::vector<std::string> reading;
  for (const auto& name : names)
    if (reads(name)) reading.push_back(name);
  return reading.size() == names.size() ? "all" : joined(reading);
}

std::string type_name(ValueType type) {
  switch (type) {
    case ValueType::kBool:
      return "true/false";
    case ValueType::kInt:
      return "integer";
    case ValueType::kReal:
      return "number";
    case ValueType::kText:
      return "text";
  }
  return "?";
}

// The default as a config would write it; "" for none (an empty text, a NaN number).
template <class Spec>
std::string default_text(const Parameter<Spec>& parameter) {
  if (!parameter.default_text.empty()) return parameter.default_text;
  const Value value = parameter.default_value();
  if (const auto* real = std::get_if<double>(&value); real && std::isnan(*real)) return "";
  return format_value(value);
}

template <class Spec>
KeyReference describe(const Parameter<Spec>& parameter, const std::string& section,
                      const std::string& prefix) {
  KeyReference key;
  key.section = section;
  key.key = prefix + parameter.name;
  key.doc = parameter.doc;
  key.type = type_name(parameter.type);
  key.default_value = default_text(parameter);
  key.rule = parameter.rule.allowed();
  key.column = parameter.column;
  return key;
}

// A `methods:` entry's option (method or sketch): the methods that read it on a quadratic or
// on a network, and the families of the kind some method reads it on.
template <class Spec>
KeyReference method_option(const Parameter<Spec>& parameter) {
  KeyReference key = describe(parameter, "methods[]", "methods[].");
  auto read_on = [&](const WorkloadKind& kind) {
    const auto methods = method_names();
    return std::any_of(methods.begin(), methods.end(), [&](const std::string& method) {
      return method_reads(method, parameter.name, kind.unread_method_options);
    });
  };
  key.methods = readers(method_names(), [&](const std::string& method) {
    const auto& kinds = workload_kinds();
    return std::any_of(kinds.begin(), kinds.end(), [&](const WorkloadKind* kind) {
      return method_reads(method, parameter.name, kind->unread_method_options);
    });
  });
  key.families = readers(family_names(), [&](const std::string& family) {
    return read_on(workload_kind(problem_family(family)));
  });
  return key;
}

// The section a key of config_keys() belongs to: its first name's, when that is a section.
std::string section_of(const std::string& key) {
  const std::string head = key.substr(0, key.find_first_of(".["));
  for (const auto& section : kSections)
    if (section.substr(0, section.find('[')) == head) return section;
  return kTopLevel;
}

KeyReference config_key(const ConfigKey& entry) {
  KeyReference key;
  key.section = section_of(entry.key);
  key.key = entry.key;
  key.doc = entry.doc;
  key.type = entry.type;
  key.default_value = entry.default_value;
  key.rule = entry.rule;
  key.column = entry.column;
  return key;
}

// "`problem.dataset: V` is `problem.dataset.name: V`" for each group of dotted names: a
// value where a group is expected sets the group's first key (config.cpp's nested_keys).
template <class Spec>
void add_shorthands(const std::vector<Parameter<Spec>>& table, const std::string& section,
                    std::vector<std::string>& out) {
  std::vector<std::string> heads;
  for (const auto& parameter : table) {
    const auto dot = parameter.name.find('.');
    if (dot == std::string::npos) continue;
    const std::string head = parameter.name.substr(0, dot);
    if (std::find(heads.begin(), heads.end(), head) != heads.end()) continue;
    heads.push_back(head);
    out.push_back(fmt::format("`{0}.{1}: V` is `{0}.{2}: V`", section, head, parameter.name));
  }
}

std::string shown(const std::string& text) { return text.empty() ? "—" : text; }

// A Markdown table cell, on one line: `|` and `*` escaped (a cell, and no emphasis), `<`
// written as an entity (no HTML tag).
std::string cell(const std::string& text) {
  std::string escaped;
  for (const char c : shown(text)) {
    if (c == '<') {
      escaped += "&lt;";
      continue;
    }
    if (c == '|' || c == '*') escaped += '\\';
    escaped += c == '\n' ? ' ' : c;
  }
  return escaped;
}

// "`a`, `b`" for "a, b".
std::string code(const std::string& text) {
  if (text.empty()) return "";
  std::string quoted = "`";
  for (const char c : text)
    quoted += c == ',' ? std::string("`,") : c == ' ' ? std::string(" `") : std::string(1, c);
  return quoted + "`";
}

}  // namespace

std::vector<KeyReference> key_reference() {
  std::vector<KeyReference> keys;
  const std::vector<ConfigKey>& own = config_keys();
  // A section's own key ("methods", "network") first, then its table, then the other keys
  // config.cpp decodes in it.
  auto add_own = [&](const std::string& section, bool head) {
    for (const auto& entry : own)
      if (section_of(entry.key) == section &&
          (entry.key == section.substr(0, section.find('['))) == head)
        keys.push_back(config_key(entry));
  };
  add_own(kTopLevel, false);

  add_own("problem", true);
  for (const auto& parameter : problem_parameters()) {
    KeyReference key = describe(parameter, "problem", "problem.");
    key.families = readers(family_names(), [&](const std::string& family) {
      return problem_family(family).reads(parameter.name);
    });
    key.methods = "all";
    keys.push_back(std::move(key));
  }
  add_own("problem", false);

  add_own("methods[]", true);
  for (const auto& parameter : method_parameters()) keys.push_back(method_option(parameter));
  for (const auto& parameter : sketch_parameters()) keys.push_back(method_option(parameter));
  add_own("methods[]", false);

  add_own("network", true);
  for (const auto& parameter : cost_parameters())
    keys.push_back(describe(parameter, "network", "network."));
  add_own("network", false);

  add_own("run", true);
  for (const auto& parameter : run_parameters()) keys.push_back(describe(parameter, "run", "run."));
  add_own("run", false);
  return keys;
}

std::string reference_list() {
  std::string text;
  for (const auto& key : key_reference()) text += key.key + "\n";
  return text;
}

std::string reference_listing() {
  const std::vector<KeyReference> keys = key_reference();
  std::size_t width = 0;
  for (const auto& key : keys) width = std::max(width, key.key.size());
  std::string text;
  for (const auto& key : keys) {
    text += fmt::format("{:<{}}  {}; default {}; allowed: {}\n", key.key, width, key.type,
                        shown(key.default_value), shown(key.rule));
    text += fmt::format("{:<{}}  {}\n", "", width, key.doc);
  }
  return text;
}

std::string reference_markdown() {
  std::vector<std::string> shorthands;
  add_shorthands(problem_parameters(), "problem", shorthands);
  add_shorthands(run_parameters(), "run", shorthands);
  add_shorthands(cost_parameters(), "network", shorthands);

  std::string text =
      "<!-- Generated by `istlab keys --markdown` from the parameter tables; do not edit. "
      "Regenerate: scripts/generate_docs.sh -->\n"
      "# Config reference\n\n"
      "*Generated by `istlab keys --markdown` from the parameter tables in `src/`; do not edit "
      "this file: regenerate it with `scripts/generate_docs.sh`.*\n\n"
      "Every key of a sweep config (YAML). Keys of `problem`, `methods[]` (each entry of the "
      "`methods:` list) and `network` take one value or a list of values to sweep over; `run` "
      "keys take one value. A dotted name nests: `problem.dataset.path` is "
      "`problem: {dataset: {path: ...}}`. A group given one value instead of a mapping sets its "
      "first key: " +
      joined(shorthands) +
      ".\n\n"
      "Columns: *type* is the YAML value's; *rule* the values allowed (some keys have further "
      "rules across keys, named in their meaning); *families* and *methods* the problem "
      "families (`problem.generator`) and methods that read the key, where a key not read is "
      "not applicable (an empty CSV field) and does not split cells, and — marks a key read "
      "by every cell; *CSV column* the column of `trace.csv` and `cells.csv` that records it.\n";
  const std::vector<KeyReference> keys = key_reference();
  for (const auto& section : kSections) {
    text += fmt::format(
        "\n## {}\n\n"
        "| key | meaning | type | default | rule | families | methods | CSV column |\n"
        "|---|---|---|---|---|---|---|---|\n",
        section);
    for (const auto& key : keys) {
      if (key.section != section) continue;
      text += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} | {} |\n", key.key, cell(key.doc),
                          cell(key.type), cell(key.default_value), cell(key.rule),
                          cell(key.families), cell(key.methods), cell(code(key.column)));
    }
  }
  text +=
      "\n## CSV parameter columns\n\n"
      "`trace.csv` and `cells.csv` begin with these columns, in this order (then the metrics):\n\n"
      "```text\n";
  for (const auto& column : parameter_columns()) text += column + "\n";
  text += "```\n";
  return text;
}

std::string names_listing() {
  const std::pair<std::string, std::vector<NameAndMeaning>> sections[] = {
      {"methods (methods[].method)", method_meanings()},
      {"problem families (problem.generator)", family_meanings()},
      {"sketches (methods[].sketch)", sketch_type_meanings()},
      {"sketch scales (methods[].scale)", sketch_scale_meanings()},
      {"named datasets (problem.dataset)", dataset_meanings()},
      {"splits of a dataset among the workers (problem.split)", split_kind_meanings()},
      {"feature scalings (problem.preprocess.scale)", feature_scale_meanings()},
      {"network models (network)", network_meanings()},
  };
  std::string text;
  for (const auto& [title, entries] : sections) {
    text += (text.empty() ? "" : "\n") + title + ":\n";
    for (const auto& entry : entries)
      text += fmt::format("  {:<15} {}\n", entry.name, entry.meaning);
  }
  return text + "\nEvery config key: istlab keys.\n";
}

}  // namespace istlab
