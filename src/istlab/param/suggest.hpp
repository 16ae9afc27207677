#pragma once
// "Did you mean": the known name closest to one that is not known, for config keys, config
// values and command-line flags. A name other tools use for the same thing (a synonym, such
// as alpha for a Dirichlet split's concentration) is matched first, then a typo (a small
// edit distance: a letter missing, extra, changed or two swapped).

#include <string>
#include <string_view>
#include <vector>

namespace istlab {

// The candidate meant by `given`, or empty when none is close.
std::string closest_name(std::string_view given, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" for the closest candidate, or "" when none is close.
std::string did_you_mean(std::string_view given, const std::vector<std::string>& candidates);

}  // namespace istlab
