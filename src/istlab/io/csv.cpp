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

void append_line(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += quoted(fields[i]);
  }
  out += '\n';
}

}  // namespace

std::string format_number(double value) {
  if (std::isnan(value)) return "";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format("{}", value);
}

CsvTable::CsvTable(std::vector<std::string> header) : header_(std::move(header)) {}

void CsvTable::add_row(std::vector<std::string> fields) {
  if (fields.size() != header_.size())
    throw std::logic_error(fmt::format("CSV row has {} fields, header has {}", fields.size(), header_.size()));
  rows_.push_back(std::move(fields));
}

std::string CsvTable::text() const {
  std::string out;
  append_line(out, header_);
  for (const auto& row : rows_) append_line(out, row);
  return out;
}

}  // namespace istlab
