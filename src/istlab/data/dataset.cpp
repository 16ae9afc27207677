#include "istlab/data/dataset.hpp"

#include <string>
#include <utility>

#include "istlab/io/files.hpp"

namespace istlab {
namespace {

std::string message(const std::string& file, const std::string& where,
                    const std::string& expected) {
  std::string text = printable(file) + ": ";
  if (!where.empty()) text += where + ": ";
  return text + "expected " + printable(expected);
}

}  // namespace

DataError::DataError(std::string file_, std::string where_, std::string expected_)
    : std::runtime_error(message(file_, where_, expected_)),
      file(std::move(file_)),
      where(std::move(where_)),
      expected(std::move(expected_)) {}

}  // namespace istlab
