#pragma once
// A parameter is declared once, in a table beside the struct that holds it (ProblemSpec,
// MethodSpec, SketchSpec, RunOptions): its name, type, rule, CSV column, label in cache keys,
// its meaning and how to read and write it. Config decoding, validation, the sweep grid, cell
// keys, CSV columns, the manifest, --dry-run and the key reference (`istlab keys`,
// docs/config-reference.md) all read these tables, so adding a key is one line:
//
//   field("dim", &ProblemSpec::dim, at_least(1), "dim", "", true).means("d, the size of x"),

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace istlab {

using Value = std::variant<bool, std::int64_t, double, std::string>;

// A registry's entry as `istlab list` shows it: its name and a line on what it is.
struct NameAndMeaning {
  std::string name;
  std::string meaning;
};
enum class ValueType { kBool, kInt, kReal, kText };

// "true", "12", the shortest text that reads back to the same double, or the text itself:
// the form of values in cache keys and messages.
std::string format_value(const Value& value);
double real_of(const Value& value);
std::int64_t int_of(const Value& value);
bool bool_of(const Value& value);
const std::string& text_of(const Value& value);

// A value that breaks a parameter's rule, as data: the parameter's name ("dim"), the value
// as text and the rule it breaks. `related` names the parameters the rule also reads (the
// generator, for "must be 2 for the counterexample"), so a config error can point at the key
// the user wrote when the bad value is a default.
class ParameterError : public std::invalid_argument {
 public:
  ParameterError(std::string name, std::string value, std::string rule,
                 std::vector<std::string> related = {});
  std::string name;
  std::string value;
  std::string rule;
  std::vector<std::string> related;
};

// The values a parameter allows: rule(value) is "" when `value` is allowed, otherwise the
// rule it breaks ("must be at least 1"); allowed() says the same as text for the reference
// ("≥ 1").
class Rule {
 public:
  using Check = std::function<std::string(const Value&)>;
  Rule() = default;  // allows every value
  Rule(std::string allowed, Check check);
  // The text is computed when asked (e.g. from a list of names).
  Rule(std::function<std::string()> allowed, Check check);
  std::string operator()(const Value& value) const { return check_ ? check_(value) : ""; }
  std::string allowed() const { return allowed_ ? allowed_() : ""; }

 private:
  std::function<std::string()> allowed_;
  Check check_;
};

Rule any_value();
Rule at_least(double minimum, std::string_view note = "");
Rule greater_than(double minimum);
Rule between(double minimum, double maximum);  // both included
// One of the names `names()` returns; `what` names the kind ("a method").
Rule one_of(std::string_view what, std::function<std::vector<std::string>()> names);

template <class Spec>
struct Parameter {
  std::string name;  // key in its config section: "dim", "local_steps", "record.every"
  ValueType type;
  Rule rule;
  std::string column;  // CSV column ("" when the value is not a column)
  std::string label;   // name in cache keys
  bool zippable = false;
  std::function<Value(const Spec&)> get;
  std::function<void(Spec&, const Value&)> set;
  std::int64_t max_int = std::numeric_limits<std::int64_t>::max();  // integers: the field's range
  // Parameters added after results were stored leave cell keys alone at their default, so
  // stored cells stay valid (and keep their order) when a parameter is added.
  bool keyed_at_default = true;
  // False: never in a cell key (a run's length: a longer run goes on from a stored one).
  bool keyed = true;
  // Old spellings of text values, accepted as the value they name (old configs still run,
  // and give the same cells): old → current.
  std::map<std::string, std::string, std::less<>> old_spellings;
  std::string doc;           // its meaning, one line, for the reference (every parameter has one)
  std::string default_text;  // shown as the default instead of default_value() when not empty

  // The chained helpers of a table line: field(...).means("...").
  Parameter also_spelled(std::string old, std::string current) && {
    old_spellings.emplace(std::move(old), std::move(current));
    return std::move(*this);
  }
  Parameter means(std::string text) && {
    doc = std::move(text);
    return std::move(*this);
  }
  // For a default that the stored value does not say ("the preset's", "required").
  Parameter default_shown(std::string text) && {
    default_text = std::move(text);
    return std::move(*this);
  }

  Value default_value() const { return get(Spec{}); }
  // Throws ParameterError when the value in `spec` breaks the rule.
  void check(const Spec& spec) const {
    const Value value = get(spec);
    std::string broken = rule(value);
    if (broken.empty() && type == ValueType::kInt && int_of(value) > max_int)
      broken = "is out of range";
    if (!broken.empty()) throw ParameterError(name, format_value(value), broken);
  }
};

// A parameter stored in `member`; `T` decides its type (int, std::int64_t, double, bool,
// std::string).
template <class Spec, class T>
Parameter<Spec> field(std::string name, T Spec::*member, Rule rule, std::string column,
                      std::string label, bool zippable = false) {
  Parameter<Spec> parameter;
  parameter.name = std::move(name);
  parameter.rule = std::move(rule);
  parameter.column = std::move(column);
  parameter.label = std::move(label);
  parameter.zippable = zippable;
  parameter.get = [member](const Spec& spec) -> Value {
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, double> ||
                  std::is_same_v<T, std::string>)
      return spec.*member;
    else
      return static_cast<std::int64_t>(spec.*member);
  };
  parameter.set = [member](Spec& spec, const Value& value) {
    if constexpr (std::is_same_v<T, bool>)
      spec.*member = bool_of(value);
    else if constexpr (std::is_same_v<T, double>)
      spec.*member = real_of(value);
    else if constexpr (std::is_same_v<T, std::string>)
      spec.*member = text_of(value);
    else
      spec.*member = static_cast<T>(int_of(value));
  };
  if constexpr (std::is_same_v<T, bool>)
    parameter.type = ValueType::kBool;
  else if constexpr (std::is_same_v<T, double>)
    parameter.type = ValueType::kReal;
  else if constexpr (std::is_same_v<T, std::string>)
    parameter.type = ValueType::kText;
  else {
    parameter.type = ValueType::kInt;
    parameter.max_int = static_cast<std::int64_t>(std::numeric_limits<T>::max());
  }
  return parameter;
}

// `parameter`, named in cell keys only when it differs from its default.
template <class Spec>
Parameter<Spec> keyed_when_set(Parameter<Spec> parameter) {
  parameter.keyed_at_default = false;
  return parameter;
}

// `parameter`, never named in cell keys.
template <class Spec>
Parameter<Spec> never_keyed(Parameter<Spec> parameter) {
  parameter.keyed = false;
  return parameter;
}

// Whether `spec`'s value of `parameter` belongs in a cell key.
template <class Spec>
bool in_key(const Parameter<Spec>& parameter, const Spec& spec) {
  if (!parameter.keyed) return false;
  // (compared as text: a NaN default, "not applicable", equals itself)
  return parameter.keyed_at_default ||
         format_value(parameter.get(spec)) != format_value(parameter.default_value());
}

// The parameter called `name` in `table`, or null.
template <class Spec>
const Parameter<Spec>* find_parameter(const std::vector<Parameter<Spec>>& table,
                                      std::string_view name) {
  for (const auto& parameter : table)
    if (parameter.name == name) return &parameter;
  return nullptr;
}

// Checks every parameter of `table` in `spec`; throws the first ParameterError.
template <class Spec>
void check_all(const std::vector<Parameter<Spec>>& table, const Spec& spec) {
  for (const auto& parameter : table) parameter.check(spec);
}

// Sets the parameters `reads` rejects to "not applicable": NaN for numbers (an empty CSV
// field), the default otherwise, so cells that differ only there are one cell.
template <class Spec, class Reads>
void reset_unread(const std::vector<Parameter<Spec>>& table, Spec& spec, Reads reads) {
  for (const auto& parameter : table) {
    if (reads(parameter.name)) continue;
    parameter.set(spec, parameter.type == ValueType::kReal
                            ? Value(std::numeric_limits<double>::quiet_NaN())
                            : parameter.default_value());
  }
}

}  // namespace istlab
