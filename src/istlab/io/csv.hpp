#pragma once
// Tidy CSV. Numbers print in the shortest form that reads back to the same double, so
// equal results give equal bytes; NaN prints as an empty field.

#include <string>
#include <vector>

namespace istlab {

std::string format_number(double value);

// One CSV line (fields quoted where needed), ending in a newline.
std::string csv_row(const std::vector<std::string>& fields);

}  // namespace istlab
