#pragma once
// The usual causes of malformed YAML, found by a scan of the text, for the messages yaml-cpp
// gives without one ("end of map flow not found"): a tab in the indentation, a bracket or
// brace never closed or closed by the other kind, a quote never closed, a second ': ' in one
// entry. The scan knows just enough YAML for these: quotes open only where a value starts,
// and '#' starts a comment only at a line's start or after a space.

#include <optional>
#include <string>
#include <string_view>

#include "istlab/sweep/config.hpp"

namespace istlab {

struct YamlHint {
  Location at;  // the cause: the tab, the opening bracket, the quote, the second colon
  std::string what;
  // A fault even where yaml-cpp parsed the text: it takes a quote left open at the end of
  // the file as closed there. (The other hints only explain a parse that failed.)
  bool even_if_parsed = false;
};

// The first recognisable cause in `text`, or nullopt.
std::optional<YamlHint> find_yaml_fault(std::string_view text);

// For yaml-cpp's "end of map not found" and "end of sequence not found" at `line` (1-based):
// what that line's indentation is, since a block ends where it is indented unlike the lines
// above. Empty when the line has no indentation to blame.
std::string indentation_hint(std::string_view text, int line);

// For yaml-cpp's "illegal map value" at `line`: the line before it (or that line) that is
// neither "key: value" nor a list item (a colon without a space after it, a key without a
// colon), or a line indented under a key that already has its value. Empty when none is.
std::string map_value_hint(std::string_view text, int line);

}  // namespace istlab
