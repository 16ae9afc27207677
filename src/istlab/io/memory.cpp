#include "istlab/io/memory.hpp"

#include <fmt/core.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string_view>

namespace istlab {
namespace {

std::uint64_t system_available_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  const long pages = ::sysconf(_SC_AVPHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0
             ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size)
             : 0;
}

// The variable's value, or 0 when it is not set.
std::uint64_t memory_limit() {
  const char* text = std::getenv(kMemoryLimitVariable);
  if (text == nullptr || *text == '\0') return 0;
  const std::string_view value(text);
  std::uint64_t bytes = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), bytes);
  if (error != std::errc() || end != value.data() + value.size() || bytes == 0)
    throw std::invalid_argument(
        fmt::format("{}: expected a whole number of bytes of at least 1, found '{}'",
                    kMemoryLimitVariable, value.substr(0, 32)));
  return bytes;
}

}  // namespace

std::uint64_t available_memory_bytes() {
  const std::uint64_t limit = memory_limit();
  const std::uint64_t system = system_available_bytes();
  if (limit == 0) return system;
  return system == 0 ? limit : std::min(limit, system);
}

bool memory_limit_set() { return memory_limit() > 0; }

std::string gib(std::uint64_t bytes) {
  const double size = static_cast<double>(bytes);
  if (size < (1ull << 30)) return fmt::format("{:.1f} MiB", size / (1ull << 20));
  return fmt::format("{:.2f} GiB", size / (1ull << 30));
}

std::string available_text(std::uint64_t available) {
  return gib(available) + " available" +
         (memory_limit_set() ? fmt::format(" (capped by {})", kMemoryLimitVariable) : "");
}

bool advise_huge_pages(void* data, std::size_t bytes) {
#ifdef __linux__
  constexpr std::uintptr_t kHugePage = kHugePageBytes;
  const auto start = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t begin = (start + kHugePage - 1) & ~(kHugePage - 1);
  const std::uintptr_t end = (start + bytes) & ~(kHugePage - 1);
  return end > begin && ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0;
#else
  (void)data;
  (void)bytes;
  return false;
#endif
}

}  // namespace istlab
