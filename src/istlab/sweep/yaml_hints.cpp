#include "istlab/sweep/yaml_hints.hpp"

#include <fmt/core.h>

#include <optional>
#include <vector>

namespace istlab {
namespace {

struct Opened {
  char bracket;
  Location at;
};

bool space(char c) { return c == ' ' || c == '\t'; }

// Line `number` (1-based) of `text`, or nullopt past its end.
std::optional<std::string_view> line_of(std::string_view text, int number) {
  std::size_t start = 0;
  for (int l = 1; l < number; ++l) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return std::nullopt;
    ++start;
  }
  if (start > text.size()) return std::nullopt;
  return text.substr(start, std::min(text.find('\n', start), text.size()) - start);
}

}  // namespace

std::optional<YamlHint> find_yaml_fault(std::string_view text) {
  std::vector<Opened> flows;  // '[' and '{' not yet closed
  Opened quote{0, {}};        // the quote of the value being read (bracket 0: none)
  int line = 1;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view row = text.substr(start, end - start);
    std::size_t indent = 0;
    while (indent < row.size() && space(row[indent])) ++indent;
    if (quote.bracket == 0 && row.substr(0, indent).find('\t') != std::string_view::npos)
      return YamlHint{{line, static_cast<int>(row.find('\t')) + 1},
                      "a tab in the indentation; YAML indents with spaces only"};
    char before = ' ';  // the last character outside quotes that is not a space
    int colons = 0;     // ': ' since the entry began (the line's start, or , [ { in a flow)
    for (std::size_t i = quote.bracket != 0 ? 0 : indent; i < row.size(); ++i) {
      const char c = row[i];
      const Location here{line, static_cast<int>(i) + 1};
      if (quote.bracket != 0) {
        if (c == '\\' && quote.bracket == '"') {
          ++i;
        } else if (c == quote.bracket) {
          if (c == '\'' && i + 1 < row.size() && row[i + 1] == '\'')
            ++i;  // '' is a quote inside single quotes
          else
            quote.bracket = 0, before = c;
        }
        continue;
      }
      if (c == '#' && (i == 0 || space(row[i - 1]))) break;  // a comment
      // A quote opens a value only where a value starts: first on its line, or after
      // ": ", "- ", "? ", or a flow's "[", "{", ",".
      const bool after_indicator =
          i > 0 && std::string_view(":-?[{,").find(before) != std::string_view::npos &&
          (space(row[i - 1]) || std::string_view("[{,").find(row[i - 1]) != std::string_view::npos);
      if ((c == '"' || c == '\'') && (i == indent || after_indicator)) {
        quote = {c, here};
        continue;
      }
      if (c == '[' || c == '{') {
        flows.push_back({c, here});
        colons = 0;
      } else if (c == ']' || c == '}') {
        const char opener = c == ']' ? '[' : '{';
        if (flows.empty()) return YamlHint{here, fmt::format("this '{}' closes nothing", c)};
        if (flows.back().bracket != opener)
          return YamlHint{flows.back().at,
                          fmt::format("the '{}' opened here is closed by a '{}' at line {}, "
                                      "column {}",
                                      flows.back().bracket, c, here.line, here.column)};
        flows.pop_back();
      } else if (c == ',' && !flows.empty()) {
        colons = 0;
      } else if (c == ':' && (i + 1 == row.size() || space(row[i + 1]))) {
        if (++colons == 2)
          return YamlHint{here,
                          "a second ':' in one entry; put a value that holds ': ' in quotes, "
                          "or give the key its own line"};
      }
      if (!space(c)) before = c;
    }
    start = end + 1;
    ++line;
  }
  if (quote.bracket != 0)
    return YamlHint{quote.at,
                    fmt::format("the {} opened here is never closed",
                                quote.bracket == '"' ? "double quote" : "single quote"),
                    /*even_if_parsed=*/true};
  if (!flows.empty())
    return YamlHint{flows.back().at,
                    fmt::format("the '{}' opened here is never closed", flows.back().bracket)};
  return std::nullopt;
}

namespace {

// The line without its indentation, a list item's "- " and its comment.
std::string_view content_of(std::string_view row) {
  row.remove_prefix(std::min(row.find_first_not_of(' '), row.size()));
  if (row.starts_with("- ")) row.remove_prefix(2);
  if (const auto comment = row.find(" #"); comment != std::string_view::npos)
    row = row.substr(0, comment);
  while (!row.empty() && space(row.back())) row.remove_suffix(1);
  return row;
}

bool blank(std::string_view row) {
  const auto first = row.find_first_not_of(" \t");
  return first == std::string_view::npos || row[first] == '#';
}

}  // namespace

std::string indentation_hint(std::string_view text, int line) {
  const auto row = line_of(text, line);
  const std::size_t indent = row ? row->find_first_not_of(' ') : 0;
  if (indent == 0 || indent == std::string_view::npos) return {};
  return fmt::format(
      "line {} is indented by {} space{}, in line with no key or '-' above it; the keys of one "
      "mapping, and the items of one list, start in one column",
      line, indent, indent == 1 ? "" : "s");
}

std::string map_value_hint(std::string_view text, int line) {
  int previous = line - 1;
  while (previous >= 1 && line_of(text, previous) && blank(*line_of(text, previous))) --previous;
  for (const int number : {previous, line}) {
    const auto row = number >= 1 ? line_of(text, number) : std::nullopt;
    if (!row || blank(*row)) continue;
    const std::string_view content = content_of(*row);
    if (content.starts_with('[') || content.starts_with('{') || content.starts_with('"') ||
        content.starts_with('\''))
      continue;
    const auto colon = content.find(':');
    if (colon == std::string_view::npos)
      return fmt::format("line {}, '{}', has no ':'; a key and its value are 'key: value'", number,
                         content.substr(0, 40));
    if (colon + 1 < content.size() && !space(content[colon + 1]))
      return fmt::format("line {}: a ':' needs a space after it ('{}: {}')", number,
                         content.substr(0, colon), content.substr(colon + 1, 30));
  }
  const auto above = previous >= 1 ? line_of(text, previous) : std::nullopt;
  const auto here = line_of(text, line);
  if (above && here) {
    const auto indent = [](std::string_view row) { return row.find_first_not_of(' '); };
    const std::string_view content = content_of(*above);
    const auto colon = content.find(": ");
    if (indent(*here) > indent(*above) && colon != std::string_view::npos)
      return fmt::format("line {} is indented under line {}, whose key '{}' already has a value",
                         line, previous, content.substr(0, colon));
  }
  return {};
}

}  // namespace istlab
