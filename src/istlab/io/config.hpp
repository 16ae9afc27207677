#pragma once
// Sweep configs: YAML → SweepConfig. A list sweeps over its values, a scalar fixes one.
// Every error names the file, line, column, key and value and says what is allowed.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "istlab/run/run.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {

// A bad config: exit code 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where a key stands in its file, for messages raised after decoding.
struct Location {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
};

struct StepSizeAxis {
  bool relative = false;  // values multiply the method's theoretical step (see grid.hpp)
  std::vector<double> values;
};

// One entry of `methods:`; each entry's lists form a grid, the entries a union of grids.
struct MethodAxes {
  std::vector<std::string> method;
  std::vector<SketchType> sketch{SketchType::kIdentity};
  std::vector<SketchScale> scale{SketchScale::kUnbiased};
  std::vector<int> rand_q{0};
  std::vector<bool> outer_sketch{true};
  std::vector<int> local_steps{1};
  std::optional<StepSizeAxis> step_size;  // overrides the top-level step_size
  std::string where;                      // "methods[2]", for messages
};

struct SweepConfig {
  std::string path;
  std::string text;  // the file as read, for the config hash
  std::string experiment;
  std::string description;
  bool quick = false;  // the `quick:` section was applied

  std::vector<std::string> generator{"tridiagonal"};
  std::vector<int> dim{100};
  std::vector<int> num_workers{10};
  std::vector<double> heterogeneity{0.0};
  std::vector<bool> interpolation{false};
  std::vector<double> kappa{100.0};
  std::vector<double> mu{1e-6};
  // `problem.seed`: draws the problem from these seeds while `seeds` drive the sketches, so
  // repeats can share one problem; empty means the problem follows `seeds`.
  std::vector<std::uint64_t> problem_seed;

  std::vector<MethodAxes> methods;
  std::optional<StepSizeAxis> step_size;
  std::vector<std::uint64_t> seeds{0};  // `seeds: [...]`, or 0..N−1 from `repeats: N`
  // Groups of keys that vary together instead of forming a product, e.g.
  // {"problem.dim", "problem.num_workers"}; each group's lists have equal lengths.
  std::vector<std::vector<std::string>> zip;
  RunOptions run;

  std::map<std::string, Location> locations;  // key path ("problem.dim") → where it stands

  // "path:line:col: key: message" for a key decoded earlier.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
};

// Throws ConfigError for unreadable files, malformed YAML, unknown keys, wrong types and
// values out of range.
// `quick` applies the config's `quick:` section (a smaller version of the same sweep, for
// tests): its keys replace the same keys of the config, maps merged key by key.
SweepConfig load_config(const std::string& path, bool quick = false);
SweepConfig parse_config(const std::string& text, const std::string& path, bool quick = false);

}  // namespace istlab
