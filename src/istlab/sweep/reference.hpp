#pragma once
// The key reference: every key of a sweep config with its meaning, type, default, rule, the
// problem families and methods that read it and its CSV column, generated from the parameter
// tables (problem/, method/, sketch/, run/) and the keys config.cpp decodes itself. `istlab
// keys` prints it; docs/config-reference.md is its Markdown (scripts/generate_docs.sh), and a
// test fails when that file is stale.

#include <string>
#include <vector>

namespace istlab {

struct KeyReference {
  std::string section;        // "top level", "problem", "methods[]", "network" or "run"
  std::string key;            // as written in YAML: "problem.dataset.path", "methods[].local_steps"
  std::string doc;            // its meaning, one line
  std::string type;           // "integer", "number", "true/false", "text", or a config key's own
  std::string default_value;  // "" when there is none
  std::string rule;           // the values allowed
  // The problem families and the methods that read the key: "all", a list, or "" for keys
  // read by every cell whatever its family and method (their meaning says any exception).
  std::string families;
  std::string methods;
  std::string column;  // the CSV columns it sets, "" for none
};

// Every key, section by section.
std::vector<KeyReference> key_reference();
// The full key names, one per line (`istlab keys --list`).
std::string reference_list();
// One line per key: key, type, default, rule and meaning (`istlab keys`).
std::string reference_listing();

// `istlab list`: the names a config may use (methods, problem families, sketches, scales,
// datasets, splits, network presets), each with a line on what it is, from the registries.
std::string names_listing();
// docs/config-reference.md (`istlab keys --markdown`).
std::string reference_markdown();

}  // namespace istlab
