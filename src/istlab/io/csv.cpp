#include "istlab/io/csv.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

namespace istlab {
namespace {

std::string quoted(const std::string& field) {
  if (field.find_first_of(",\"\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string format_number(double value) {
  if (std::isnan(value)) return "";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format("{}", value);
}

std::string csv_row(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += quoted(fields[i]);
  }
  out += '\n';
  return out;
}

std::string csv_row(const std::vector<std::string>& columns, const CsvFields& fields) {
  if (fields.size() != columns.size())
    throw std::logic_error(
        fmt::format("a row of {} fields for {} columns", fields.size(), columns.size()));
  std::vector<std::string> ordered(columns.size());
  std::vector<bool> given(columns.size(), false);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    // Rows are usually built in column order: look there first.
    std::size_t column = fields[i].first == columns[i] ? i : columns.size();
    for (std::size_t c = 0; column == columns.size() && c < columns.size(); ++c)
      if (columns[c] == fields[i].first) column = c;
    if (column == columns.size() || given[column])
      throw std::logic_error(
          fmt::format("field '{}' is not a column, or is given twice", fields[i].first));
    given[column] = true;
    ordered[column] = fields[i].second;
  }
  return csv_row(ordered);
}

std::vector<std::string> csv_fields(std::string_view line) {
  std::vector<std::string> fields(1);
  bool in_quotes = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      in_quotes = !in_quotes;
    } else if (c == ',' && !in_quotes) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace istlab
