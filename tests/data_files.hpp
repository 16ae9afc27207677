#pragma once
// Data files written byte by byte, for the reader tests and the readers' fuzz seeds.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace istlab {

inline std::string big_endian32(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

// An IDX file: two zero bytes, the element type, the number of dimensions, each dimension
// as a big-endian uint32, then the data.
inline std::string idx(char type, const std::vector<std::uint32_t>& shape,
                       const std::string& data) {
  std::string out{'\0', '\0', type, static_cast<char>(shape.size())};
  for (const std::uint32_t size : shape) out += big_endian32(size);
  return out + data;
}

// A .npy file as numpy writes it: the header padded with spaces to a multiple of 64 bytes.
inline std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                       int major = 1, const std::string& fortran = "False") {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  const std::size_t prefix = major == 1 ? 10 : 12;
  header.append(63 - (prefix + header.size()) % 64, ' ') += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t k = 0; k < prefix - 8; ++k) out += static_cast<char>(header.size() >> (8 * k));
  return out + header + data;
}

}  // namespace istlab
