#pragma once
// Tidy CSV. Numbers print in the shortest form that reads back to the same double, so
// equal results give equal bytes; NaN prints as an empty field.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace istlab {

std::string format_number(double value);

// One CSV line (fields quoted where needed), ending in a newline.
std::string csv_row(const std::vector<std::string>& fields);

// Fields by column name: rows are built by name, so a value cannot land in the wrong column.
using CsvFields = std::vector<std::pair<std::string, std::string>>;
// The line of `fields` in the order of `columns`; throws std::logic_error unless every
// column is given exactly once.
std::string csv_row(const std::vector<std::string>& columns, const CsvFields& fields);

// The fields of one line csv_row wrote (without its newline), quotes undone.
std::vector<std::string> csv_fields(std::string_view line);

}  // namespace istlab
