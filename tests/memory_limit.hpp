#pragma once
// ISTLAB_MEMORY_LIMIT_BYTES set for one test and restored afterwards, so a small file trips
// the memory checks without the test allocating gigabytes.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "istlab/io/memory.hpp"

namespace istlab {

class ScopedMemoryLimit {
 public:
  explicit ScopedMemoryLimit(const std::string& value) {
    if (const char* old = std::getenv(kMemoryLimitVariable)) old_ = old;
    ::setenv(kMemoryLimitVariable, value.c_str(), 1);
  }
  explicit ScopedMemoryLimit(std::uint64_t bytes) : ScopedMemoryLimit(std::to_string(bytes)) {}
  ~ScopedMemoryLimit() {
    if (old_)
      ::setenv(kMemoryLimitVariable, old_->c_str(), 1);
    else
      ::unsetenv(kMemoryLimitVariable);
  }
  ScopedMemoryLimit(const ScopedMemoryLimit&) = delete;
  ScopedMemoryLimit& operator=(const ScopedMemoryLimit&) = delete;

 private:
  std::optional<std::string> old_;
};

}  // namespace istlab
