#include "istlab/param/parameter.hpp"

#include <fmt/core.h>

#include "istlab/param/suggest.hpp"

namespace istlab {

std::string format_value(const Value& value) {
  return std::visit([](const auto& v) { return fmt::format("{}", v); }, value);
}

double real_of(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return static_cast<double>(*integer);
  return std::get<double>(value);
}

std::int64_t int_of(const Value& value) { return std::get<std::int64_t>(value); }
bool bool_of(const Value& value) { return std::get<bool>(value); }
const std::string& text_of(const Value& value) { return std::get<std::string>(value); }

ParameterError::ParameterError(std::string name_, std::string value_, std::string rule_,
                               std::vector<std::string> related_)
    : std::invalid_argument(fmt::format("{} = {}: {}", name_, value_, rule_)),
      name(std::move(name_)),
      value(std::move(value_)),
      rule(std::move(rule_)),
      related(std::move(related_)) {}

Rule::Rule(std::string allowed, Check check)
    : allowed_([allowed = std::move(allowed)] { return allowed; }), check_(std::move(check)) {}

Rule::Rule(std::function<std::string()> allowed, Check check)
    : allowed_(std::move(allowed)), check_(std::move(check)) {}

Rule any_value() {
  return Rule("any", [](const Value&) { return std::string(); });
}

Rule at_least(double minimum, std::string_view note) {
  const std::string rule = fmt::format("must be at least {}{}", minimum, note);
  return Rule(fmt::format("≥ {}{}", minimum, note), [minimum, rule](const Value& value) {
    const double number = real_of(value);
    return number >= minimum ? std::string() : rule;  // NaN fails
  });
}

Rule greater_than(double minimum) {
  const std::string rule =
      minimum == 0.0 ? "must be positive" : fmt::format("must be greater than {}", minimum);
  return Rule(fmt::format("> {}", minimum), [minimum, rule](const Value& value) {
    const double number = real_of(value);
    return number > minimum ? std::string() : rule;  // NaN fails
  });
}

Rule between(double minimum, double maximum) {
  const std::string rule = fmt::format("must be between {} and {}", minimum, maximum);
  return Rule(fmt::format("{} to {}", minimum, maximum),
              [minimum, maximum, rule](const Value& value) {
                const double number = real_of(value);
                return number >= minimum && number <= maximum ? std::string() : rule;  // NaN fails
              });
}

namespace {
std::string listed(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}
}  // namespace

Rule one_of(std::string_view what, std::function<std::vector<std::string>()> names) {
  return Rule([names] { return "one of: " + listed(names()); },
              [what = std::string(what), names](const Value& value) {
                const std::vector<std::string> valid = names();
                for (const auto& name : valid)
                  if (name == text_of(value)) return std::string();
                return fmt::format("is not {}{}; valid: {}", what,
                                   did_you_mean(text_of(value), valid), listed(valid));
              });
}

}  // namespace istlab
