#pragma once
// Sweep configs: YAML → SweepConfig. A list sweeps over its values, a scalar fixes one.
// The keys and their rules come from the parameter tables of problem/, sketch/, method/
// and run/; every error names the file, line, column, key and value and says what is allowed.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "istlab/param/parameter.hpp"
#include "istlab/run/cost_model.hpp"
#include "istlab/run/run.hpp"

namespace istlab {

// A sweep has at most this many cells (and `repeats` at most this many seeds): each cell
// costs memory for its key and a file in the store, and a grid is expanded in full.
inline constexpr std::int64_t kMaxGridCells = 100'000;

// Where a key stands in its file.
struct Location {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
};

// A bad config (exit code 2), as data: where, which key, which value (when there is one)
// and the rule it breaks. what() spells them as "file:line:column: key: value 'v' rule".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, Location at, std::string key, std::optional<std::string> value,
              std::string rule, bool is_default = false);
  std::string file;
  Location at;
  std::string key;  // "problem.dim", "methods[1].sketch"; empty for the file as a whole
  std::optional<std::string> value;
  std::string rule;
  bool is_default;  // the value is a default the config did not write
};

struct StepSizeAxis {
  bool relative = false;  // values multiply the method's theoretical step (see grid.hpp)
  std::vector<double> values;
};

// Values given for swept parameters, by parameter name; a parameter not given takes its
// default.
using Axes = std::map<std::string, std::vector<Value>>;

// One entry of `methods:`; each entry's lists form a grid, the entries a union of grids.
struct MethodAxes {
  Axes values;                            // method_parameters() and sketch_parameters()
  std::optional<StepSizeAxis> step_size;  // overrides the top-level step_size
  std::string where;                      // "methods[2]", for messages
};

struct SweepConfig {
  std::string path;
  std::string text;  // the file as read, for the config hash
  std::string experiment;
  std::string description;
  bool quick = false;  // the `quick:` section was applied

  Axes problem;  // problem_parameters()
  // `problem.seed`: draws the problem from these seeds while `seeds` drive the sketches, so
  // repeats can share one problem; empty means the problem follows `seeds`.
  std::vector<std::uint64_t> problem_seed;
  Axes network;  // cost_parameters(): the network and compute model, swept like the problem
  std::vector<MethodAxes> methods;
  std::optional<StepSizeAxis> step_size;
  std::vector<std::uint64_t> seeds{0};  // `seeds: [...]`, or 0..N−1 from `repeats: N`
  // Groups of keys that vary together instead of forming a product, e.g.
  // {"problem.dim", "problem.num_workers"}; each group's lists have equal lengths.
  std::vector<std::vector<std::string>> zip;
  // The keys of a group given as a list of maps (`dataset: [{path: a.csv, ...}, heart_scale]`):
  // they vary together, entry by entry; merged into `zip` once it is read.
  std::vector<std::vector<std::string>> bundles;
  std::vector<std::string> overrides;  // --set KEY=VALUE, in order (the manifest records them)
  RunOptions run;

  std::map<std::string, Location> locations;  // key path ("problem.dim") → where it stands

  // The values swept for `name`, as given or the default.
  template <class Spec>
  static std::vector<Value> values_of(const Axes& axes, const Parameter<Spec>& parameter) {
    const auto found = axes.find(parameter.name);
    return found != axes.end() ? found->second : std::vector<Value>{parameter.default_value()};
  }
  // Where `key` stands; for a key left at its default, where the first of `related` stands,
  // else its enclosing section, else the top of the file.
  Location locate(const std::string& key, const std::vector<std::string>& related = {}) const;
  // Throws the ConfigError for `key` (located as above).
  [[noreturn]] void fail(const std::string& key, const std::string& rule,
                         std::optional<std::string> value = {},
                         const std::vector<std::string>& related = {}) const;
};

// Throws ConfigError for unreadable files, malformed YAML, unknown keys, wrong types and
// values out of range.
// `quick` applies the config's `quick:` section (a smaller version of the same sweep, for
// tests): its keys replace the same keys of the config, maps merged key by key.
// `overrides` ("--set KEY=VALUE", e.g. "problem.num_workers=8" or "seeds=[1, 2]") replace
// keys of the file, after its quick: section; each VALUE is YAML, checked like the file's,
// and an error in one names it ("--set KEY=VALUE: ...").
SweepConfig load_config(const std::string& path, bool quick = false,
                        const std::vector<std::string>& overrides = {});
SweepConfig parse_config(const std::string& text, const std::string& path, bool quick = false,
                         const std::vector<std::string>& overrides = {});

// A key this file decodes itself rather than through a parameter table (experiment, seeds,
// step_size, ...), described for the key reference (`istlab keys`).
struct ConfigKey {
  std::string key;            // as written in YAML: "problem.seed", "methods[].step_size"
  std::string type;           // "integer or list", ...
  std::string default_value;  // "" when there is none
  std::string rule;           // the values allowed
  std::string column;         // the CSV columns it sets, "" for none
  std::string doc;            // its meaning, one line
};
const std::vector<ConfigKey>& config_keys();

}  // namespace istlab
