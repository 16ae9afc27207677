#pragma once
// The memory this process may still use, read in one place: what the sweep's estimate and
// the dataset readers' size checks compare against.

#include <cstddef>
#include <cstdint>
#include <string>

namespace istlab {

// The environment variable that caps the memory istlab treats as available (a whole number
// of bytes): a test makes a small file trip the checks without allocating gigabytes, and a
// shared machine keeps istlab below its share.
inline constexpr const char* kMemoryLimitVariable = "ISTLAB_MEMORY_LIMIT_BYTES";

// MemAvailable (/proc/meminfo), capped by ISTLAB_MEMORY_LIMIT_BYTES when that is set; 0 when
// neither is known. Throws std::invalid_argument when the variable is not a whole number.
std::uint64_t available_memory_bytes();
// Whether ISTLAB_MEMORY_LIMIT_BYTES is set (and so may be what available_memory_bytes says).
bool memory_limit_set();
// "12.3 MiB" or "1.25 GiB".
std::string gib(std::uint64_t bytes);
// "22.10 GiB available", with "(capped by ISTLAB_MEMORY_LIMIT_BYTES)" when the variable is
// set: `available` as available_memory_bytes gave it, for messages.
std::string available_text(std::uint64_t available);

// Asks Linux to back the 2 MiB-aligned part of a large buffer, allocated but not yet touched,
// with transparent huge pages (elsewhere, or when refused, nothing happens). Filling fresh
// memory a 4 KiB page at a time takes a page fault per page: 46,000 for a 188 MB dataset,
// which cost 0.8 s on a virtual machine where filling huge pages took 0.03-0.4 s. Returns
// whether the advice was taken (false: too small to hold a huge page, refused, or not Linux).
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
bool advise_huge_pages(void* data, std::size_t bytes);

}  // namespace istlab
