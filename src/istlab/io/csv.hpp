#pragma once
// Tidy CSV: a header, then rows. Numbers print in the shortest form that reads back to the
// same double, so equal results give equal bytes; NaN prints as an empty field.

#include <string>
#include <vector>

namespace istlab {

std::string format_number(double value);

class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> header);
  // One row; fields must match the header in count.
  void add_row(std::vector<std::string> fields);
  std::string text() const;
  std::size_t size() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace istlab
